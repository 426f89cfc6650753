"""What the passing of time does to a service, one milestone at a time."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from rinnovo.contracts.catalog import ProductPolicy
from rinnovo.orders.domain.schedule import Milestone, MilestoneKind, pending
from rinnovo.orders.domain.subscription import Status, Subscription

WARNS_OF = {
    MilestoneKind.REMINDER: MilestoneKind.EXPIRY,
    MilestoneKind.AUTOMATIC_RENEWAL_NOTICE: MilestoneKind.AUTOMATIC_RENEWAL,
    MilestoneKind.WINDOW_CLOSING: MilestoneKind.DEACTIVATION,
}
"""Each warning, and the milestone it gives the customer time to act before."""


@dataclass(frozen=True)
class Step:
    milestone: Milestone
    service: Subscription
    """The service after the milestone, marked done."""
    announce: bool
    """Publish the milestone's event (false for a warning that came too late to act on)."""
    place_automatic_renewal: bool = False


def still_meaningful(warning: Milestone, later: Sequence[Milestone], now: datetime) -> bool:
    """A warning is told while the customer still has time to act on it: what it warns of
    (the expiry, the charge, the deactivation) is still ahead, and no later warning of the
    same kind is due too (that one says the same, as things are now)."""
    target = WARNS_OF[warning.kind]
    ahead = any(m.kind is target and m.due_at > now for m in later)
    superseded = any(m.kind is warning.kind and m.due_at <= now for m in later)
    return ahead and not superseded


def next_step(service: Subscription, policy: ProductPolicy, now: datetime) -> Step | None:
    """The earliest milestone due at ``now``, or None if nothing is due.

    After downtime, or when a write makes past milestones due (an import close to expiry,
    automatic renewal switched on late), several may be due at once; they are taken in time
    order, and a warning no longer meaningful is marked done without telling the customer.
    """
    left = pending(service, policy)
    if not left or left[0].due_at > now:
        return None
    milestone, later = left[0], left[1:]
    done = replace(service, milestones_done=(*service.milestones_done, milestone.key))
    match milestone.kind:
        case (
            MilestoneKind.REMINDER
            | MilestoneKind.AUTOMATIC_RENEWAL_NOTICE
            | MilestoneKind.WINDOW_CLOSING
        ):
            return Step(milestone, done, announce=still_meaningful(milestone, later, now))
        case MilestoneKind.AUTOMATIC_RENEWAL:
            return Step(milestone, done, announce=True, place_automatic_renewal=True)
        case MilestoneKind.EXPIRY:
            return Step(milestone, replace(done, status=Status.EXPIRED), announce=True)
        case MilestoneKind.DEACTIVATION:
            deactivated = replace(done, status=Status.DEACTIVATED, deactivated_at=now)
            return Step(milestone, deactivated, announce=True)


def due_steps(service: Subscription, policy: ProductPolicy, now: datetime) -> list[Step]:
    """Every milestone due at ``now``, in time order, each on the service the last left."""
    steps: list[Step] = []
    while (step := next_step(service, policy, now)) is not None:
        steps.append(step)
        service = step.service
    return steps
