"""Errors of the payments use cases; the HTTP layer turns them into problem details."""


class NotFound(LookupError):
    """No such thing, or it belongs to another customer: the two look the same from outside."""


class Conflict(Exception):
    """The request is valid but the state of things does not allow it now."""


class Invalid(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
