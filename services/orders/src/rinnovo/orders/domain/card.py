"""The customer-area card of a service: what it shows and which actions it offers.

Computed here, not in the UI, from the service, today's Rome date and the product's policy:
- the days left until the expiry date (``calendar.days_left``: 0 on the expiry day);
- expiry shown red from ``expiry_warning_days`` before the expiry date;
- storage red when use is strictly above ``storage_warning_percent`` of the quota;
- Renew only with automatic renewal off and before the expiry day;
- Upgrade only while active, before the expiry day;
- Reactivate from the expiry day to the last day of the reactivation window (a completed
  renewal moves the expiry date, so it then disappears by itself); Renew and Upgrade hidden;
- Manage always;
- automatic renewal as it is switched, and whether it can be switched now.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from rinnovo.contracts.catalog import ProductPolicy
from rinnovo.orders.domain.automatic_renewal import switchable
from rinnovo.orders.domain.calendar import days_left
from rinnovo.orders.domain.subscription import AutoRenewal, Status, Subscription


@dataclass(frozen=True)
class Actions:
    renew: bool
    upgrade: bool
    reactivate: bool
    manage: bool = True


@dataclass(frozen=True)
class Card:
    subscription_id: str
    username: str
    product_id: str
    status: Status
    expiry_date: date | None
    expiry_warning: bool
    days_to_expiry: int | None
    storage_quota_gb: int
    storage_used_bytes: int
    storage_used_percent: float
    storage_warning: bool
    reactivation_deadline: date | None
    actions: Actions
    automatic_renewal: AutoRenewal
    automatic_renewal_switchable: bool


def card(subscription: Subscription, policy: ProductPolicy, today: date) -> Card:
    expiry = subscription.expiry_date
    live = subscription.status in (Status.ACTIVE, Status.EXPIRED)
    days_to_expiry = None if expiry is None else days_left(expiry, today)
    deadline = None if expiry is None else expiry + timedelta(days=policy.reactivation_window_days)
    before_expiry_day = live and days_to_expiry is not None and days_to_expiry > 0
    in_window = live and expiry is not None and deadline is not None and expiry <= today <= deadline
    active = subscription.status is Status.ACTIVE
    used = Fraction(subscription.used_bytes, subscription.quota_bytes or 1)
    return Card(
        subscription_id=subscription.subscription_id,
        username=subscription.username,
        product_id=subscription.product_id,
        status=subscription.status,
        expiry_date=expiry,
        expiry_warning=live
        and days_to_expiry is not None
        and days_to_expiry <= policy.expiry_warning_days,
        days_to_expiry=days_to_expiry,
        storage_quota_gb=subscription.components.storage_gb,
        storage_used_bytes=subscription.used_bytes,
        storage_used_percent=round(float(used * 100), 1),
        storage_warning=used * 100 > policy.storage_warning_percent,
        reactivation_deadline=deadline if live else None,
        actions=Actions(
            renew=active and before_expiry_day and not subscription.auto_renewal.enabled,
            upgrade=active and before_expiry_day,
            reactivate=in_window,
        ),
        automatic_renewal=subscription.auto_renewal,
        automatic_renewal_switchable=switchable(subscription),
    )
