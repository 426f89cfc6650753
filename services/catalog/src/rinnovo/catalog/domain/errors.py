"""Why a catalog change was refused; the entrypoints turn these into their own errors."""

from collections.abc import Sequence

from rinnovo.catalog.domain.rules import FieldProblem


class Rejected(ValueError):
    """The change breaks catalog rules; nothing was stored."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))
        self.problems = list(problems)


def reject_if(problems: Sequence[FieldProblem]) -> None:
    if problems:
        raise Rejected(problems)


class NotFound(LookupError):
    pass


class AlreadyExists(Exception):
    pass


class StaleVersion(Exception):
    """The client changed what it read, but someone changed it since (``If-Match``)."""


class NoLongerChanges(Exception):
    """The thing is in a final state and no longer changes (a revoked code)."""
