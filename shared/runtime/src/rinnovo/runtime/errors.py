"""Errors a use case raises; every HTTP API renders them as problem details.

Use cases stay free of HTTP: they raise these, and ``problems.install_problem_handlers``
turns them into 404, 409 and 422 answers.
"""


class NotFound(LookupError):
    """No such thing, or it belongs to another customer: the two look the same from outside."""


class Conflict(Exception):
    """The request is valid but the state of things does not allow it now."""


class Invalid(ValueError):
    """One field of the request cannot be accepted."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
