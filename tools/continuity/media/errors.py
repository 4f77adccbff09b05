"""The one exception this package raises for bad input."""


class MediaError(ValueError):
    """The file cannot be analysed; the message says what is wrong and how to fix it."""
