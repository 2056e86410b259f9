"""The collection's defaults and fixed facts, in one place; only the standard library is imported here,
so that ``afro-mnist --help`` works without the ``collect`` extra."""

DEFAULT_DB = "collect.sqlite"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT, DEFAULT_REVIEW_PORT = 8000, 8001
DEFAULT_GOAL = 20  # drawings asked of one visitor before the thank-you
DEFAULT_CLASS_GOAL = 200  # usable drawings a campaign wants of each class (collect stats, the organiser's page)
LICENCE = "CC BY-SA 4.0"  # as CoMNIST published its drawings
LICENCE_URL = "https://creativecommons.org/licenses/by-sa/4.0/"
TOKEN_VARIABLE = "AFRO_MNIST_REVIEW_TOKEN"
MIN_TOKEN_LENGTH = 16
FORMATS = ("exemplars", "parquet", "strokes")
DEFAULT_TEST_SHARE = 0.2
HANDWRITTEN_SUFFIX = "_handwritten"
