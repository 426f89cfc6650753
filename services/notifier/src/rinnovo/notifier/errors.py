"""Errors of the notifier's use cases; the HTTP layer turns them into problem details."""


class NotFound(LookupError):
    """No such thing, or it belongs to another customer: the two look the same from outside."""
