"""Automatic renewal as the customer switches it: which terms and methods it may use."""

from collections.abc import Collection
from dataclasses import replace

from rinnovo.orders.domain.pricing import QuoteRefused
from rinnovo.orders.domain.subscription import AutoRenewal, Status, Subscription


class NotSwitchable(Exception):
    """The service is in a state where automatic renewal cannot be switched."""


def switchable(service: Subscription) -> bool:
    """Automatic renewal is switched while the service runs or awaits its first payment."""
    return service.status in (Status.ACTIVE, Status.PENDING_ACTIVATION)


def switched(
    service: Subscription,
    *,
    enabled: bool,
    term_years: int | None,
    payment_method: str | None,
    allowed_terms: Collection[int],
    stored_methods: Collection[str],
) -> Subscription:
    """The service with automatic renewal switched; unnamed choices keep their value.

    Automatic renewal charges without the customer, so it needs a method that can be charged
    again (a stored card or mandate) and a term the product offers."""
    if not switchable(service):
        raise NotSwitchable(f"the service is {service.status.value}")
    term = term_years or service.auto_renewal.term_years
    if term not in allowed_terms:
        allowed = ", ".join(map(str, sorted(allowed_terms)))
        raise QuoteRefused("term_years", f"the product allows terms of {allowed} years")
    method = payment_method or service.auto_renewal.payment_method
    if enabled and method not in stored_methods:
        raise QuoteRefused(
            "payment_method",
            "automatic renewal needs a stored method: " + ", ".join(sorted(stored_methods)),
        )
    return replace(service, auto_renewal=AutoRenewal(enabled, term, method if enabled else None))
