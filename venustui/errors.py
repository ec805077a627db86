"""The one exception type for mistakes a user can fix: shown as one line, never a traceback."""


class UserError(Exception):
    """A problem with the user's input (a path, a flag, a config value) and how to fix it."""
