"""Errors of the notifier's use cases: the runtime's, which every API renders the same way."""

from rinnovo.runtime.errors import NotFound

__all__ = ["NotFound"]
