"""What the passing of time does to a service, one milestone at a time."""

from dataclasses import dataclass, replace
from datetime import datetime

from rinnovo.contracts.catalog import ProductPolicy
from rinnovo.orders.domain.schedule import Milestone, MilestoneKind, pending
from rinnovo.orders.domain.subscription import Status, Subscription


@dataclass(frozen=True)
class Step:
    milestone: Milestone
    service: Subscription
    """The service after the milestone, marked done."""
    announce: bool
    """Publish the milestone's event (false for a reminder overtaken by a later milestone)."""
    place_automatic_renewal: bool = False


def next_step(service: Subscription, policy: ProductPolicy, now: datetime) -> Step | None:
    """The earliest milestone due at ``now``, or None if nothing is due.

    After downtime several milestones may be due at once; they are taken in time order, and a
    reminder or window warning that a later due milestone has overtaken is marked done
    without telling the customer something already out of date.
    """
    due = [m for m in pending(service, policy) if m.due_at <= now]
    if not due:
        return None
    milestone, later = due[0], due[1:]
    done = replace(service, milestones_done=(*service.milestones_done, milestone.key))
    overtaken = bool(later)
    match milestone.kind:
        case MilestoneKind.REMINDER | MilestoneKind.WINDOW_CLOSING:
            return Step(milestone, done, announce=not overtaken)
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
