"""Stripe, through its official SDK: hosted checkout, off-session charges, refunds, payment
methods saved with setup intents, and signed callbacks (webhooks).

Every call that moves money carries an idempotency key, so a retry after a crash or a
timeout gets the first call's result instead of a second charge. Callbacks are verified with
the SDK's signature check; their timestamp is then checked against the injected clock, both
ways, so an old callback replayed later is refused whatever the machine's time says.
"""

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe
import structlog

from rinnovo.payments.domain.payments import Checkout, Payment
from rinnovo.payments.domain.setups import NotConfirmed, SetupSeen
from rinnovo.payments.methods.base import (
    BadCallback,
    ChargeOutcome,
    ChargeResult,
    NoticeKind,
    ProviderNotice,
    ProviderUnavailable,
    SetupStarted,
    StoredMethod,
)

log = structlog.get_logger(__name__)

NAME = "stripe"
SIGNATURE_HEADER = "stripe-signature"
PAID_EVENTS = {
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "payment_intent.succeeded",
}
FAILED_EVENTS = {"payment_intent.payment_failed", "checkout.session.async_payment_failed"}


class StripeGateway:
    name = NAME

    def __init__(
        self,
        *,
        api_key: str,
        webhook_secret: str,
        api_base: str | None = None,
        tolerance: timedelta = timedelta(minutes=5),
        return_url: str = "http://127.0.0.1:8003/v1/payments/{payment_id}",
        timeout_seconds: float = 20.0,
    ) -> None:
        self._webhook_secret = webhook_secret
        self._tolerance = tolerance
        self._return_url = return_url
        self.client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=stripe.HTTPXClient(timeout=timeout_seconds),
            max_network_retries=2,
        )

    async def create_checkout(
        self, payment: Payment, method_types: list[str], idempotency_key: str
    ) -> Checkout:
        return_url = self._return_url.format(
            payment_id=payment.payment_id, order_id=payment.order_id
        )
        metadata = {"payment_id": payment.payment_id, "order_number": payment.order_number}
        params: Any = {
            "mode": "payment",
            "payment_method_types": method_types,
            "client_reference_id": payment.payment_id,
            "customer_email": payment.holder.email,
            "locale": "en" if payment.holder.locale == "en" else "it",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": payment.outstanding_cents,
                        "product_data": {"name": f"Ordine {payment.order_number}"},
                    },
                }
            ],
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
            "success_url": return_url,
            "cancel_url": return_url,
        }
        try:
            session = await self.client.v1.checkout.sessions.create_async(
                params, {"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as exc:
            raise ProviderUnavailable(f"stripe: {exc}") from exc
        if not session.url:
            raise ProviderUnavailable("stripe: the checkout session has no url")
        return Checkout(
            session_id=session.id,
            url=session.url,
            expires_at=datetime.fromtimestamp(session.expires_at, UTC),
            created=1,
        )

    async def charge(
        self, payment: Payment, stored: StoredMethod, method_type: str, idempotency_key: str
    ) -> ChargeResult:
        params: Any = {
            "amount": payment.outstanding_cents,
            "currency": "eur",
            "customer": stored.provider_customer,
            "payment_method": stored.provider_method,
            "payment_method_types": [method_type],
            "off_session": True,
            "confirm": True,
            "description": f"Rinnovo automatico {payment.order_number}",
            "metadata": {"payment_id": payment.payment_id, "order_number": payment.order_number},
        }
        if stored.mandate_reference:
            params["mandate"] = stored.mandate_reference
        try:
            intent = await self.client.v1.payment_intents.create_async(
                params, {"idempotency_key": idempotency_key}
            )
        except stripe.CardError as exc:
            return ChargeResult(ChargeOutcome.FAILED, reason=_reason(exc))
        except stripe.InvalidRequestError as exc:
            # The stored method is gone or unusable: waiting does not help this attempt.
            return ChargeResult(ChargeOutcome.FAILED, reason=_reason(exc))
        except stripe.StripeError as exc:
            raise ProviderUnavailable(f"stripe: {exc}") from exc
        if intent.status == "succeeded":
            received = intent.amount_received or intent.amount
            return ChargeResult(ChargeOutcome.SUCCEEDED, intent.id, received)
        if intent.status == "processing":
            return ChargeResult(ChargeOutcome.PROCESSING, intent.id)
        error = intent.last_payment_error
        reason = (error.message if error else None) or f"payment {intent.status}"
        return ChargeResult(ChargeOutcome.FAILED, intent.id, reason=reason)

    async def refund(self, reference: str, amount_cents: int, idempotency_key: str) -> str:
        try:
            refund = await self.client.v1.refunds.create_async(
                {"payment_intent": reference, "amount": amount_cents},
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise ProviderUnavailable(f"stripe: {exc}") from exc
        return refund.id

    async def create_customer(self, customer_id: str, idempotency_key: str) -> str:
        params: Any = {"metadata": {"customer_id": customer_id}}
        try:
            customer = await self.client.v1.customers.create_async(
                params, {"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as exc:
            raise ProviderUnavailable(f"stripe: {exc}") from exc
        return customer.id

    async def start_setup(
        self, customer_id: str, provider_customer: str, method_type: str, idempotency_key: str
    ) -> SetupStarted:
        params: Any = {
            "customer": provider_customer,
            "payment_method_types": [method_type],
            "usage": "off_session",
            "metadata": {"customer_id": customer_id},
        }
        try:
            intent = await self.client.v1.setup_intents.create_async(
                params, {"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as exc:
            raise ProviderUnavailable(f"stripe: {exc}") from exc
        if not intent.client_secret:
            raise ProviderUnavailable("stripe: the setup intent has no client secret")
        return SetupStarted(intent.id, intent.client_secret, provider_customer)

    async def read_setup(self, setup_id: str) -> SetupSeen:
        try:
            intent = await self.client.v1.setup_intents.retrieve_async(
                setup_id, {"expand": ["payment_method"]}
            )
        except stripe.InvalidRequestError as exc:
            raise NotConfirmed("the provider knows no such setup") from exc
        except stripe.StripeError as exc:
            raise ProviderUnavailable(f"stripe: {exc}") from exc
        method = intent.payment_method
        found = method if isinstance(method, stripe.PaymentMethod) else None
        mandate = intent.mandate
        metadata: Mapping[str, str] = intent.metadata.to_dict() if intent.metadata else {}
        return SetupSeen(
            setup_id=intent.id,
            status=intent.status,
            usage=intent.usage,
            provider_customer=_id(intent.customer),
            customer_id=metadata.get("customer_id"),
            provider_method=_id(method),
            method_type=found.type if found else None,
            method_customer=_id(found.customer) if found else None,
            label=_label(found),
            mandate_reference=_id(mandate),
        )

    def read_callback(
        self, body: bytes, headers: Mapping[str, str], now: datetime
    ) -> ProviderNotice:
        header = headers.get(SIGNATURE_HEADER)
        try:
            # Signature only: the SDK's own tolerance uses the machine's clock.
            stripe.WebhookSignature.verify_header(body, header, self._webhook_secret, None)
        except stripe.SignatureVerificationError as exc:
            raise BadCallback(str(exc).split(". ")[0]) from exc
        assert header is not None
        signed_at = _timestamp(header)
        if abs(now - signed_at) > self._tolerance:
            raise BadCallback(f"signed at {signed_at.isoformat()}, outside the tolerance")
        try:
            event = json.loads(body)
            event_id: str = event["id"]
            event_type: str = event["type"]
            obj: dict[str, Any] = event["data"]["object"]
        except (ValueError, KeyError, TypeError) as exc:
            raise BadCallback(f"not a Stripe event ({exc})") from exc
        metadata = obj.get("metadata") or {}
        payment_id = obj.get("client_reference_id") or metadata.get("payment_id")
        if event_type in PAID_EVENTS:
            if event_type == "checkout.session.completed" and obj.get("payment_status") != "paid":
                return ProviderNotice(event_id, NoticeKind.IGNORED, payment_id)  # async method
            is_session = obj.get("object") == "checkout.session"
            return ProviderNotice(
                event_id,
                NoticeKind.PAID,
                payment_id,
                reference=obj.get("payment_intent") if is_session else obj.get("id"),
                amount_cents=obj.get("amount_total") if is_session else obj.get("amount_received"),
            )
        if event_type in FAILED_EVENTS:
            error = obj.get("last_payment_error") or {}
            return ProviderNotice(
                event_id,
                NoticeKind.FAILED,
                payment_id,
                reference=obj.get("id"),
                reason=error.get("message") or "the payment failed",
            )
        return ProviderNotice(event_id, NoticeKind.IGNORED, payment_id)


def _timestamp(header: str) -> datetime:
    """The timestamp the SDK has just checked the signature with, read by the SDK's own
    parser: any reading of our own could take another ``t`` from a crafted header (a fresh
    one beside the old one that was signed) and let a replay through."""
    timestamp, _ = stripe.WebhookSignature._get_timestamp_and_signatures(
        header, stripe.WebhookSignature.EXPECTED_SCHEME
    )
    return datetime.fromtimestamp(timestamp, UTC)


def _id(value: Any) -> str | None:
    """The id of an object Stripe gives either as its id or expanded."""
    if value is None or isinstance(value, str):
        return value
    found: str | None = getattr(value, "id", None)
    return found


def _label(method: stripe.PaymentMethod | None) -> str:
    """What the customer sees of a saved payment method: ``Visa **** 4242``."""
    if method is None:
        return ""
    if method.type == "card" and method.card is not None:
        return f"{method.card.brand.title()} **** {method.card.last4}"
    if method.type == "sepa_debit" and method.sepa_debit is not None:
        return f"SEPA **** {method.sepa_debit.last4}"
    return method.type


def _reason(exc: stripe.StripeError) -> str:
    return exc.user_message or str(exc.code or "") or "the charge was declined"
