"""The one exception type for bad user input."""


class InputError(ValueError):
    """Bad input from the user: a config, spec, font, size or output path that cannot be used.

    The command line prints its message as a single line on stderr and exits with status 2, so the
    message names the bad value and says what to do about it.
    """
