"""The published events of payments, built from the domain (the only place that maps them)."""

from datetime import date, datetime
from typing import Any

from rinnovo.contracts import payments as contract
from rinnovo.contracts.envelope import Event
from rinnovo.contracts.orders import Holder, OrderKind
from rinnovo.payments.domain.payments import Payment
from rinnovo.runtime.events import new_event

PRODUCER = "payments"


def holder(payment: Payment) -> Holder:
    h = payment.holder
    return Holder(customer_id=h.customer_id, name=h.name, email=h.email, locale=h.locale)


def instructions(payment: Payment) -> contract.PaymentInstructions:
    i = payment.instructions
    return contract.PaymentInstructions(
        kind=contract.InstructionsKind(i.kind),
        reference=i.reference,
        amount_cents=i.amount_cents,
        due_date=i.due_date,
        beneficiary=i.beneficiary,
        iban=i.iban,
        bic=i.bic,
        postal_account=i.postal_account,
        checkout_url=i.checkout_url,
    )


class EventFactory:
    """Events of one payment write: versions follow the stored version, one per event."""

    def __init__(self, payment: Payment, version: int, at: datetime, cause: Event | None) -> None:
        self.payment = payment
        self.version = version
        self.at = at
        self.cause = cause
        self.events: list[Event] = []

    def _add(self, cls: type[Event], payload: object) -> "EventFactory":
        self.version += 1
        self.events.append(
            new_event(
                cls,
                payload=payload,
                producer=PRODUCER,
                aggregate_id=self.payment.payment_id,
                aggregate_version=self.version,
                occurred_at=self.at,
                correlation_id=self.cause.correlation_id if self.cause else self.payment.order_id,
                causation_id=str(self.cause.event_id) if self.cause else None,
            )
        )
        return self

    def _request(self) -> dict[str, Any]:
        """What a payment request and a request for its rest both tell the payer."""
        p = self.payment
        return {
            "payment_id": p.payment_id,
            "order_id": p.order_id,
            "order_number": p.order_number,
            "order_kind": OrderKind(p.order_kind),
            "service_id": p.service_id,
            "holder": holder(p),
            "method": p.method,
            "amount_cents": p.amount_cents,
            "instructions": instructions(p),
            "usual_registration_days": p.usual_registration_days,
        }

    def requested(self) -> "EventFactory":
        payload = contract.PaymentRequestedPayload(**self._request())
        return self._add(contract.PaymentRequested, payload)

    def registered(self) -> "EventFactory":
        p = self.payment
        assert p.registration is not None
        payload = contract.PaymentRegisteredPayload(
            payment_id=p.payment_id,
            order_id=p.order_id,
            order_number=p.order_number,
            method=p.method,
            amount_cents=p.received_cents,
            registered_at=p.registration.at,
            source=p.registration.kind,
            written_off_cents=p.registration.written_off_cents or None,
        )
        return self._add(contract.PaymentRegistered, payload)

    def rest_requested(self) -> "EventFactory":
        p = self.payment
        payload = contract.PaymentRestRequestedPayload(
            **self._request(), received_cents=p.received_cents, rest_cents=p.outstanding_cents
        )
        return self._add(contract.PaymentRestRequested, payload)

    def charge_attempted(
        self, attempt: int, succeeded: bool, reason: str | None, next_on: date | None
    ) -> "EventFactory":
        p = self.payment
        payload = contract.ChargeAttemptedPayload(
            payment_id=p.payment_id,
            order_id=p.order_id,
            order_number=p.order_number,
            holder=holder(p),
            attempt=attempt,
            succeeded=succeeded,
            reason=reason,
            next_attempt_on=next_on,
            amount_cents=p.amount_cents,
            method=p.method,
        )
        return self._add(contract.ChargeAttempted, payload)

    def failed(self, reason: str, attempts: int) -> "EventFactory":
        p = self.payment
        payload = contract.PaymentFailedPayload(
            payment_id=p.payment_id,
            order_id=p.order_id,
            order_number=p.order_number,
            service_id=p.service_id,
            holder=holder(p),
            reason=reason,
            attempts=attempts,
            amount_cents=p.amount_cents,
        )
        return self._add(contract.PaymentFailed, payload)

    def voided(self, reason: str) -> "EventFactory":
        p = self.payment
        payload = contract.PaymentVoidedPayload(
            payment_id=p.payment_id, order_id=p.order_id, reason=reason
        )
        return self._add(contract.PaymentVoided, payload)

    def refunded(self, amount_cents: int, reason: str) -> "EventFactory":
        p = self.payment
        payload = contract.PaymentRefundedPayload(
            payment_id=p.payment_id,
            order_id=p.order_id,
            amount_cents=amount_cents,
            reason=reason,
            refunded_at=self.at,
        )
        return self._add(contract.PaymentRefunded, payload)
