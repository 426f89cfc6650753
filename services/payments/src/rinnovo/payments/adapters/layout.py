"""How each payments aggregate is kept in its document, whatever store keeps it: its state
under ``state``, top-level copies of the fields queries and indexes need, the instant its
scheduled work falls due, and the fields no two aggregates may share."""

from typing import Any

from rinnovo.payments.domain.callbacks import ProcessedCallback
from rinnovo.payments.domain.payments import Payment
from rinnovo.payments.domain.reviews import ReviewItem
from rinnovo.payments.domain.statement_import import BankCredit, ImportRecord
from rinnovo.payments.methods.base import StoredMethod
from rinnovo.runtime.changes import Schedule
from rinnovo.runtime.documents import StateCodec


def _payment_fields(payment: Payment) -> dict[str, Any]:
    return {
        "order_id": payment.order_id,
        "order_number": payment.order_number,
        "customer_id": payment.customer_id,
        "status": payment.status.value,
    }


def _review_fields(item: ReviewItem) -> dict[str, Any]:
    return {"status": item.status.value, "opened_at": item.opened_at, "applied": item.applied}


PAYMENTS = StateCodec(Payment, _payment_fields)
PAYMENT_SCHEDULE: Schedule[Payment] = Schedule(lambda p: p.next_attempt_at, "next_attempt_at")
"""Automatic renewal: the next charge of the stored method."""
PAYMENT_UNIQUE = ("order_id",)
"""One payment per order."""

REVIEWS = StateCodec(ReviewItem, _review_fields)
BANK_CREDITS = StateCodec(BankCredit)
STATEMENTS = StateCodec(ImportRecord)
STORED_METHODS = StateCodec(StoredMethod, lambda m: {"customer_id": m.customer_id})
CALLBACKS = StateCodec(ProcessedCallback)
