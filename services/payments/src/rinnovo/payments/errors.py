"""Errors of the payments use cases: the runtime's, which every API renders the same way."""

from rinnovo.runtime.errors import Conflict, Invalid, NotFound

__all__ = ["Conflict", "Invalid", "NotFound"]
