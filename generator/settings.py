"""Where the project publishes, and the command line's defaults: the one place to change them.

Everything that names the dataset repository reads it from here: the dataset card and its snippets,
``afro-mnist push`` (its ``--repo-id`` default), ``generator.repository.export.load_data`` and the PyTorch
``generator.repository.torch.AfroMNIST``. To publish a fork under another name, change ``REPO_ID`` below; a
single run can also pass ``--repo-id`` (push) or ``repo_id=`` (load_data, AfroMNIST).

Only the standard library is imported here, so that every module may read it.
"""

from __future__ import annotations

# The Hugging Face Hub dataset repository the configs are published to and downloaded from.
REPO_ID = "afro-mnist/afro_mnist"
# The generator's source repository: the code, the issue tracker and the place to ask questions.
SOURCE_URL = "https://github.com/afro-mnist/afro-mnist"
# Who curates the datasets and keeps the generator: the card, CITATION.cff and pyproject.toml's authors name them so.
MAINTAINERS = "The Afro-MNIST generator maintainers"
# The paper the datasets follow.
PAPER_ARXIV_ID = "2009.13509"
PAPER_URL = f"https://arxiv.org/abs/{PAPER_ARXIV_ID}"
# The Hub's address when neither an argument nor $HF_ENDPOINT names another.
HUB_ENDPOINT = "https://huggingface.co"
# Seconds a download waits for the Hub before it gives up with an error, instead of hanging.
DOWNLOAD_TIMEOUT_S = 30
# Seconds each request of a push may wait for the Hub (``afro-mnist push --timeout``).
PUSH_TIMEOUT_S = 60.0


def dataset_url(repo_id: str = REPO_ID, endpoint: str = HUB_ENDPOINT) -> str:
    """The dataset repository's page on the Hub."""
    return f"{endpoint.rstrip('/')}/datasets/{repo_id}"


# The size of a config's splits unless --train-size and --test-size say otherwise: MNIST's.
DEFAULT_TRAIN_SIZE = 60_000
DEFAULT_TEST_SIZE = 10_000
# The share of images drawn from handwritten seeds (--exemplar-weight) when --exemplars is given.
DEFAULT_WEIGHT = 0.5
