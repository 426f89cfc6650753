"""The facts of messages about orders and their payments: confirmation with the
instructions to pay, automatic renewal announced, retried and failed, an order cancelled."""

from rinnovo.contracts.orders import OrderCancelled, OrderKind, OrderPlaced
from rinnovo.contracts.payments import (
    ChargeAttempted,
    InstructionsKind,
    PaymentFailed,
    PaymentInstructions,
    PaymentRequested,
)
from rinnovo.notifier.domain.formatting import Cents
from rinnovo.notifier.domain.messages import CannotNotify, Composed, Facts, KnownOrder, Template


def order_confirmed(event: PaymentRequested) -> Composed | None:
    p = event.payload
    instructions = p.instructions
    # Automatic renewals are announced by their OrderPlaced; nothing to pay by hand.
    if p.order_kind is OrderKind.AUTOMATIC_RENEWAL:
        return None
    if instructions.kind is InstructionsKind.STORED_METHOD:
        return None
    facts: Facts = {
        "order_number": p.order_number,
        "order_kind": p.order_kind.value,
        "method": p.method,
        "amount_cents": Cents(p.amount_cents),
        "usual_registration_days": p.usual_registration_days,
        "instructions": instructions_facts(instructions),
    }
    return Template.ORDER_CONFIRMED, p.holder, facts


REQUIRED_INSTRUCTIONS = {
    InstructionsKind.BANK_TRANSFER: ("beneficiary", "iban"),
    InstructionsKind.POSTAL_SLIP: ("beneficiary", "postal_account"),
    InstructionsKind.CHECKOUT_LINK: ("checkout_url",),
}


def instructions_facts(instructions: PaymentInstructions) -> Facts:
    missing = [
        name
        for name in REQUIRED_INSTRUCTIONS.get(instructions.kind, ())
        if not getattr(instructions, name)
    ]
    if missing:
        raise CannotNotify(
            "incomplete_instructions",
            f"{instructions.kind.value} instructions lack {', '.join(missing)}",
        )
    return {
        "kind": instructions.kind.value,
        "reference": instructions.reference,
        "amount_cents": Cents(instructions.amount_cents),
        "due_date": instructions.due_date,
        "beneficiary": instructions.beneficiary,
        "iban": instructions.iban,
        "bic": instructions.bic,
        "postal_account": instructions.postal_account,
        "checkout_url": instructions.checkout_url,
    }


def automatic_renewal_upcoming(event: OrderPlaced) -> Composed | None:
    p = event.payload
    if p.kind is not OrderKind.AUTOMATIC_RENEWAL:
        return None  # other orders are confirmed with their payment instructions
    facts: Facts = {
        "order_number": p.number,
        "service_id": p.service_id,
        "username": p.username,
        "product_name": p.product_name,
        "term_years": p.term_years,
        "total_cents": Cents(p.total_cents),
        "payment_method": p.payment_method,
        "payment_due": p.payment_due,
    }
    return Template.AUTOMATIC_RENEWAL_UPCOMING, p.holder, facts


def order_cancelled(event: OrderCancelled, order: KnownOrder | None) -> Composed | None:
    p = event.payload
    if order is not None and order.kind == OrderKind.AUTOMATIC_RENEWAL.value:
        # The customer never placed it; its failure was already told (automatic renewal failed).
        return None
    facts: Facts = {
        "order_number": p.number,
        "reason": p.reason.value,
        "total_cents": Cents(p.total_cents),
        "cancelled_at": p.cancelled_at,
    }
    return Template.ORDER_CANCELLED, p.holder, facts


def charge_failed(event: ChargeAttempted) -> Composed | None:
    p = event.payload
    # A success is told by ServiceRenewed (with the new expiry date); the last failure by
    # PaymentFailed. Only a failure with another attempt ahead is told here.
    if p.succeeded or p.next_attempt_on is None:
        return None
    facts: Facts = {
        "order_number": p.order_number,
        "attempt": p.attempt,
        "reason": p.reason,
        "next_attempt_on": p.next_attempt_on,
        "amount_cents": cents(p.amount_cents),
    }
    return Template.AUTOMATIC_RENEWAL_RETRY, p.holder, facts


def automatic_renewal_failed(event: PaymentFailed) -> Composed:
    p = event.payload
    facts: Facts = {
        "order_number": p.order_number,
        "attempts": p.attempts,
        "reason": p.reason,
        "amount_cents": cents(p.amount_cents),
    }
    return Template.AUTOMATIC_RENEWAL_FAILED, p.holder, facts


def cents(amount: int | None) -> Cents | None:
    return None if amount is None else Cents(amount)
