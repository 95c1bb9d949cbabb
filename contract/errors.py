"""The one exception a bad contract raises, so callers can print it as one line."""


class ContractError(Exception):
    """A spec that cannot be loaded or whose extensions make no sense.

    The message names the file (or URL) and the place in it, ready to show a user as-is.
    """
