"""The events orders announces for a service's milestones, told as things are when taken."""

from datetime import date, datetime

from rinnovo.contracts import orders as contract
from rinnovo.contracts.catalog import ProductSnapshot
from rinnovo.contracts.envelope import Event
from rinnovo.orders.domain.automatic_renewal import renewal_quote
from rinnovo.orders.domain.calendar import add_years, days_left
from rinnovo.orders.domain.lifecycle import Step
from rinnovo.orders.domain.pricing import Quote
from rinnovo.orders.domain.schedule import MilestoneKind, charge_day, reactivation_deadline
from rinnovo.orders.domain.subscription import Subscription
from rinnovo.orders.integration_events import event_of, service_state
from rinnovo.runtime.clock import rome_date


def service_expiring(service: Subscription, days_left: int, version: int, at: datetime) -> Event:
    assert service.expiry_date is not None
    payload = contract.ServiceExpiringPayload(
        service=service_state(service), expiry_date=service.expiry_date, days_left=days_left
    )
    return event_of(contract.ServiceExpiring, payload, service.subscription_id, version, at)


def service_expired(service: Subscription, deadline: date, version: int, at: datetime) -> Event:
    payload = contract.ServiceExpiredPayload(
        service=service_state(service), reactivation_deadline=deadline
    )
    return event_of(contract.ServiceExpired, payload, service.subscription_id, version, at)


def window_closing(
    service: Subscription, deadline: date, days_left: int, version: int, at: datetime
) -> Event:
    payload = contract.ReactivationWindowClosingPayload(
        service=service_state(service), reactivation_deadline=deadline, days_left=days_left
    )
    return event_of(
        contract.ReactivationWindowClosing, payload, service.subscription_id, version, at
    )


def service_deactivated(service: Subscription, version: int, at: datetime) -> Event:
    payload = contract.ServiceChangePayload(service=service_state(service))
    return event_of(contract.ServiceDeactivated, payload, service.subscription_id, version, at)


def automatic_renewal_upcoming(
    service: Subscription, charged_on: date, q: Quote, version: int, at: datetime
) -> Event:
    assert service.expiry_date is not None
    payload = contract.AutomaticRenewalUpcomingPayload(
        service=service_state(service),
        charge_date=charged_on,
        days_left=max(days_left(charged_on, rome_date(at)), 0),
        term_years=q.term_years,
        payment_method=service.auto_renewal.payment_method or "card",
        total_cents=q.total_cents,
        renewed_until=add_years(service.expiry_date, q.term_years),
    )
    return event_of(
        contract.AutomaticRenewalUpcoming, payload, service.subscription_id, version, at
    )


def milestone_announced(
    step: Step, before: Subscription, product: ProductSnapshot, version: int, now: datetime
) -> Event:
    """The event a milestone taken at ``now`` announces, told as things are today. Raises
    ``QuoteRefused`` for an automatic-renewal notice when the renewal cannot be priced."""
    after, policy = step.service, product.policy
    assert before.expiry_date is not None
    deadline = reactivation_deadline(before.expiry_date, policy)
    match step.milestone.kind:
        case MilestoneKind.REMINDER:
            # A reminder taken late (downtime, an import close to expiry) does not announce
            # the days its milestone was named after.
            left = max(days_left(before.expiry_date, rome_date(now)), 0)
            return service_expiring(after, left, version, now)
        case MilestoneKind.AUTOMATIC_RENEWAL_NOTICE:
            charged_on = charge_day(before.expiry_date, policy)
            q = renewal_quote(product, before, charged_on)
            return automatic_renewal_upcoming(after, charged_on, q, version, now)
        case MilestoneKind.EXPIRY:
            return service_expired(after, deadline, version, now)
        case MilestoneKind.WINDOW_CLOSING:
            left = max(days_left(deadline, rome_date(now)), 0)
            return window_closing(after, deadline, left, version, now)
        case MilestoneKind.DEACTIVATION:
            return service_deactivated(after, version, now)
    raise AssertionError(f"no announcement for {step.milestone.kind}")
