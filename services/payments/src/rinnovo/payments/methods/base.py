"""What a payment-method plugin is: a ``typing.Protocol`` and the optional capabilities.

Every method gives the instructions to pay and declares how long registration usually takes.
Some can do more, each a protocol of its own: open a provider's hosted checkout (card,
PayPal), charge a stored method without the customer (automatic renewal), refund, and read
the provider's signed callbacks. Plugins are found through the ``rinnovo.payments.methods``
entry points and only the ones in the allow-list are loaded.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from rinnovo.payments.domain.payments import Checkout, Holder, Instructions, Payment

METHODS_GROUP = "rinnovo.payments.methods"


@dataclass(frozen=True)
class PaymentRequest:
    payment_id: str
    order_number: str
    amount_cents: int
    due_date: date
    holder: Holder
    checkout_url: str
    """Our own link that opens the provider's page when clicked (hosted methods)."""


@dataclass(frozen=True)
class StoredMethod:
    """A card token or a SEPA mandate a customer left for automatic renewal."""

    customer_id: str
    method: str
    provider_customer: str
    provider_method: str
    label: str
    registered_at: datetime
    registered_by: str
    mandate_reference: str | None = None


class ChargeOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    PROCESSING = "processing"
    """Accepted, the result comes later by callback (a SEPA debit)."""
    FAILED = "failed"


@dataclass(frozen=True)
class ChargeResult:
    outcome: ChargeOutcome
    reference: str | None = None
    amount_cents: int | None = None
    reason: str | None = None


class NoticeKind(StrEnum):
    PAID = "paid"
    FAILED = "failed"
    IGNORED = "ignored"


@dataclass(frozen=True)
class ProviderNotice:
    """What a verified callback says."""

    event_id: str
    kind: NoticeKind
    payment_id: str | None = None
    reference: str | None = None
    amount_cents: int | None = None
    reason: str | None = None


class BadCallback(ValueError):
    """Not signed by the provider, too old or too new, or unreadable."""


class ProviderUnavailable(Exception):
    """The provider could not be reached or failed: try the same call again later."""


@runtime_checkable
class PaymentMethod(Protocol):
    name: str
    usual_registration_days: int
    """Working days between paying and the payment being registered, as customers are told."""

    def instructions(self, request: PaymentRequest) -> Instructions: ...


@runtime_checkable
class HostedCheckout(Protocol):
    async def open_checkout(self, payment: Payment, idempotency_key: str) -> Checkout: ...


@runtime_checkable
class ChargesStoredMethod(Protocol):
    async def charge(
        self, payment: Payment, stored: StoredMethod, idempotency_key: str
    ) -> ChargeResult: ...


@runtime_checkable
class Refunds(Protocol):
    async def refund(self, reference: str, amount_cents: int, idempotency_key: str) -> str: ...


@runtime_checkable
class CallbackProvider(Protocol):
    name: str

    def read_callback(
        self, body: bytes, headers: Mapping[str, str], now: datetime
    ) -> ProviderNotice: ...


@runtime_checkable
class ConfirmedByProvider(Protocol):
    provider: CallbackProvider


class ProviderGateway(CallbackProvider, Protocol):
    """A payment provider's API as the methods built on it use it (Stripe's adapter is one):
    hosted checkout, off-session charges, refunds and signed callbacks."""

    async def create_checkout(
        self, payment: Payment, method_types: list[str], idempotency_key: str
    ) -> Checkout: ...

    async def charge(
        self, payment: Payment, stored: StoredMethod, method_type: str, idempotency_key: str
    ) -> ChargeResult: ...

    async def refund(self, reference: str, amount_cents: int, idempotency_key: str) -> str: ...


@dataclass(frozen=True)
class MethodContext:
    """What the service gives plugins to build themselves with."""

    beneficiary: str
    iban: str
    bic: str
    postal_account: str
    public_base_url: str
    stripe: Callable[[], ProviderGateway]
    """Stripe, built on first use and shared (card, PayPal, SEPA use one account)."""


@runtime_checkable
class MethodPlugin(Protocol):
    """What an entry point of ``rinnovo.payments.methods`` names."""

    name: str
    description: str

    def create(self, context: MethodContext) -> PaymentMethod: ...
