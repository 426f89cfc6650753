"""The milestones of a service over time, from its state and its product's policy.

Each milestone has a key that names it for the current expiry date, so a renewal (a new
expiry date) brings a fresh set and a milestone done is never done again. Instants are
computed from Europe/Rome calendar days: a reminder is due when its day starts in Rome, the
expiry when the expiry day ends, deactivation when the last day of the window ends.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from rinnovo.contracts.catalog import ProductPolicy
from rinnovo.orders.domain.subscription import Status, Subscription, TimelineEntry
from rinnovo.runtime.clock import end_of_rome_day

HISTORY_LIMIT = 100


class MilestoneKind(StrEnum):
    REMINDER = "reminder"
    AUTOMATIC_RENEWAL_NOTICE = "automatic_renewal_notice"
    AUTOMATIC_RENEWAL = "automatic_renewal"
    EXPIRY = "expiry"
    WINDOW_CLOSING = "window_closing"
    DEACTIVATION = "deactivation"


@dataclass(frozen=True)
class Milestone:
    kind: MilestoneKind
    day: date
    """The Rome day it belongs to."""
    due_at: datetime
    key: str
    days_before: int = 0


def start_of_rome_day(day: date) -> datetime:
    return end_of_rome_day(day - timedelta(days=1))


def reactivation_deadline(expiry: date, policy: ProductPolicy) -> date:
    return expiry + timedelta(days=policy.reactivation_window_days)


def charge_day(expiry: date, policy: ProductPolicy) -> date:
    """The Rome day an automatic renewal is charged: its lead time before the expiry."""
    return expiry - timedelta(days=policy.auto_renewal_lead_days)


def _automatic_renewal(expiry: date, policy: ProductPolicy) -> list[Milestone]:
    """The notice, the product's ``auto_renewal_notice_days`` before the charge, and the
    charge (the order payments charges is placed then)."""
    charge = charge_day(expiry, policy)
    notice = charge - timedelta(days=policy.auto_renewal_notice_days)
    return [
        Milestone(
            MilestoneKind.AUTOMATIC_RENEWAL_NOTICE,
            notice,
            start_of_rome_day(notice),
            f"auto_notice:{expiry}",
            policy.auto_renewal_notice_days,
        ),
        Milestone(
            MilestoneKind.AUTOMATIC_RENEWAL,
            charge,
            start_of_rome_day(charge),
            f"auto:{expiry}",
            policy.auto_renewal_lead_days,
        ),
    ]


def milestones(service: Subscription, policy: ProductPolicy) -> list[Milestone]:
    """Every milestone of the service's current term that applies to its state, in time order."""
    expiry = service.expiry_date
    if expiry is None or service.status in (Status.PENDING_ACTIVATION, Status.DEACTIVATED):
        return []
    deadline = reactivation_deadline(expiry, policy)
    found: list[Milestone] = []
    if service.status is Status.ACTIVE:
        if service.auto_renewal.enabled:
            found += _automatic_renewal(expiry, policy)
        else:
            for days in policy.reminder_days_before_expiry:
                day = expiry - timedelta(days=days)
                found.append(
                    Milestone(
                        MilestoneKind.REMINDER,
                        day,
                        start_of_rome_day(day),
                        f"reminder:{expiry}:{days}",
                        days,
                    )
                )
        found.append(
            Milestone(MilestoneKind.EXPIRY, expiry, end_of_rome_day(expiry), f"expiry:{expiry}")
        )
    if service.status in (Status.ACTIVE, Status.EXPIRED):
        warn_day = deadline - timedelta(days=policy.window_closing_warning_days)
        found.append(
            Milestone(
                MilestoneKind.WINDOW_CLOSING,
                warn_day,
                start_of_rome_day(warn_day),
                f"window_closing:{expiry}",
                policy.window_closing_warning_days,
            )
        )
        found.append(
            Milestone(
                MilestoneKind.DEACTIVATION,
                deadline,
                end_of_rome_day(deadline),
                f"deactivation:{expiry}",
            )
        )
    return sorted(found, key=lambda m: (m.due_at, m.kind != MilestoneKind.EXPIRY))


def pending(service: Subscription, policy: ProductPolicy) -> list[Milestone]:
    """The milestones not done yet, in time order."""
    done = set(service.milestones_done)
    return [m for m in milestones(service, policy) if m.key not in done]


def next_due(service: Subscription, policy: ProductPolicy) -> datetime | None:
    upcoming = pending(service, policy)
    return upcoming[0].due_at if upcoming else None


def recorded(
    service: Subscription, entries: Sequence[TimelineEntry], policy: ProductPolicy
) -> Subscription:
    """The service as every change stores it: what happened added to its timeline (the
    latest ``HISTORY_LIMIT``), and the instant its next milestone falls due."""
    service = replace(service, history=(*service.history, *entries)[-HISTORY_LIMIT:])
    return replace(service, next_due_at=next_due(service, policy))
