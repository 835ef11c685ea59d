"""The one exception an action raises for a failure its user can act on."""


class ActionFailed(Exception):
    """The action ran and failed for a reason the user can act on (one line, no stack)."""
