"""Saving a card or a SEPA mandate for automatic renewal: only what the provider confirms.

A customer never tells us which provider customer or payment method is theirs (anyone who
learnt another's ``cus_…``/``pm_…`` would have renewals charged to it). We create the setup
with the provider for them, remember it, and once the browser has confirmed it we read it
back from the provider: it is stored only if it is ours, theirs and done.
"""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class MethodSetup:
    """A setup we created with the provider for one customer and method."""

    setup_id: str
    customer_id: str
    method: str
    provider_customer: str
    started_at: datetime


@dataclass(frozen=True)
class SetupSeen:
    """A setup as the provider reports it when read back."""

    setup_id: str
    status: str
    usage: str | None
    provider_customer: str | None
    """The provider customer the setup is for."""
    customer_id: str | None
    """Our customer, as we wrote it in the setup's metadata."""
    provider_method: str | None
    method_type: str | None
    method_customer: str | None
    """The provider customer the payment method is attached to."""
    label: str
    mandate_reference: str | None = None


class NotConfirmed(Exception):
    """The setup cannot be stored: why, in words for the customer."""


def check_confirmed(setup: MethodSetup, method: str, method_type: str, seen: SetupSeen) -> str:
    """The provider's payment method the confirmed ``setup`` saved for its customer, or
    ``NotConfirmed``. ``method_type`` is the provider's name of ``method`` (``card``,
    ``sepa_debit``)."""
    if setup.method != method or seen.setup_id != setup.setup_id:
        raise NotConfirmed(f"this setup is not for {method}")
    if seen.status != "succeeded":
        raise NotConfirmed(f"the provider has not confirmed this setup (it is {seen.status})")
    ours = setup.provider_customer
    if seen.provider_customer != ours or seen.method_customer != ours:
        raise NotConfirmed("the provider names another customer for this setup")
    if seen.customer_id != setup.customer_id:
        raise NotConfirmed("the provider names another customer for this setup")
    if seen.usage != "off_session" or seen.method_type != method_type:
        raise NotConfirmed(f"this setup does not save a {method} for automatic renewal")
    if not seen.provider_method:
        raise NotConfirmed("the provider saved no payment method with this setup")
    return seen.provider_method
