"""Errors a user can cause. Messages name files and lines, never a person's data."""


class InputError(Exception):
    """Unusable input or request: the message is shown to the user as one line."""


class Cancelled(Exception):
    """The user cancelled a long operation; nothing partial was kept."""
