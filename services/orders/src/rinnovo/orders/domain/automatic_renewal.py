"""Automatic renewal as the customer switches it (which terms and methods it may use), and
what it charges."""

from collections.abc import Collection
from dataclasses import replace
from datetime import date

from rinnovo.contracts.catalog import ProductSnapshot
from rinnovo.orders.domain.pricing import OrderKind, Quote, QuoteRefused, QuoteRequest, quote
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


def renewal_quote(product: ProductSnapshot, service: Subscription, charged_on: date) -> Quote:
    """What the automatic renewal of ``service`` charges on ``charged_on``: its components for
    its term (the product's shortest, should the product no longer offer that term), at the
    prices in effect that day. The notice and the charge both quote it. Raises
    ``QuoteRefused`` when the service can no longer be renewed as it is."""
    auto = service.auto_renewal
    allowed = product.allowed_terms_years
    term = auto.term_years if auto.term_years in allowed else min(allowed)
    request = QuoteRequest(
        kind=OrderKind.AUTOMATIC_RENEWAL,
        wanted=service.components,
        term_years=term,
        today=charged_on,
        current=service.components,
    )
    return quote(product, request)
