"""Methods confirmed by Stripe's signed callbacks: card and PayPal on Stripe's hosted page,
and the stored card or SEPA direct-debit mandate that automatic renewal charges."""

from rinnovo.contracts.payments import InstructionsKind
from rinnovo.payments.domain.payments import Checkout, Instructions, Payment
from rinnovo.payments.methods.base import (
    ChargeResult,
    MethodContext,
    PaymentMethod,
    PaymentRequest,
    ProviderGateway,
    StoredMethod,
)


class _Stripe:
    def __init__(self, gateway: ProviderGateway) -> None:
        self.gateway = gateway

    @property
    def provider(self) -> ProviderGateway:
        return self.gateway

    async def refund(self, reference: str, amount_cents: int, idempotency_key: str) -> str:
        return await self.gateway.refund(reference, amount_cents, idempotency_key)


class HostedCheckoutMethod(_Stripe):
    """Paid on Stripe's page. The instructions carry our own link, which opens a fresh
    session when clicked: a provider session lives a day, an order waits for weeks."""

    method_types: list[str]

    def __init__(self, name: str, gateway: ProviderGateway, method_types: list[str]) -> None:
        super().__init__(gateway)
        self.name = name
        self.method_types = method_types
        self.usual_registration_days = 0

    def instructions(self, request: PaymentRequest) -> Instructions:
        return Instructions(
            kind=InstructionsKind.CHECKOUT_LINK.value,
            reference=request.order_number,
            amount_cents=request.amount_cents,
            due_date=request.due_date,
            checkout_url=request.checkout_url,
        )

    async def open_checkout(self, payment: Payment, idempotency_key: str) -> Checkout:
        return await self.gateway.create_checkout(payment, self.method_types, idempotency_key)


class Card(HostedCheckoutMethod):
    """Card on the hosted page; also the stored card charged by automatic renewal."""

    def __init__(self, gateway: ProviderGateway) -> None:
        super().__init__("card", gateway, ["card"])

    async def charge(
        self, payment: Payment, stored: StoredMethod, idempotency_key: str
    ) -> ChargeResult:
        return await self.gateway.charge(payment, stored, "card", idempotency_key)


class SepaDirectDebit(_Stripe):
    """A SEPA Core mandate charged by automatic renewal; the bank confirms in days."""

    name = "sepa_direct_debit"
    usual_registration_days = 5

    def instructions(self, request: PaymentRequest) -> Instructions:
        return Instructions(
            kind=InstructionsKind.STORED_METHOD.value,
            reference=request.order_number,
            amount_cents=request.amount_cents,
            due_date=request.due_date,
        )

    async def charge(
        self, payment: Payment, stored: StoredMethod, idempotency_key: str
    ) -> ChargeResult:
        return await self.gateway.charge(payment, stored, "sepa_debit", idempotency_key)


class CardPlugin:
    name = "card"
    description = "Card through Stripe: hosted checkout, stored card for automatic renewal."

    def create(self, context: MethodContext) -> PaymentMethod:
        return Card(context.stripe())


class PayPalPlugin:
    name = "paypal"
    description = "PayPal through Stripe's hosted checkout."

    def create(self, context: MethodContext) -> PaymentMethod:
        return HostedCheckoutMethod("paypal", context.stripe(), ["paypal"])


class SepaDirectDebitPlugin:
    name = "sepa_direct_debit"
    description = "SEPA direct debit on a stored mandate (automatic renewal), through Stripe."

    def create(self, context: MethodContext) -> PaymentMethod:
        return SepaDirectDebit(context.stripe())


card = CardPlugin()
paypal = PayPalPlugin()
sepa_direct_debit = SepaDirectDebitPlugin()
