"""The payments API's request and response bodies. Amounts are integer euro cents."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from rinnovo.payments.domain.payments import Instructions, Payment
from rinnovo.payments.domain.reviews import ReviewItem
from rinnovo.payments.domain.statement_import import EntryResult, ImportResult
from rinnovo.payments.methods.base import PaymentMethod, StoredMethod
from rinnovo.runtime.clock import rome_date

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InstructionsOut(BaseModel):
    kind: str
    reference: str = Field(description="Quote it with the payment: the order number.")
    amount_cents: int
    due_date: date
    beneficiary: str | None
    iban: str | None
    bic: str | None
    postal_account: str | None
    checkout_url: str | None

    @classmethod
    def of(cls, i: Instructions) -> "InstructionsOut":
        return cls(**vars(i))


class PaymentOut(BaseModel):
    payment_id: str
    order_id: str
    order_number: str
    method: str
    status: str
    amount_cents: int
    instructions: InstructionsOut
    usual_registration_days: int = Field(
        description="Working days registration usually takes after paying with this method."
    )
    registered_at: datetime | None
    registered_amount_cents: int | None
    refunded_cents: int
    charge_attempts: int
    next_attempt_on: date | None
    last_failure: str | None

    @classmethod
    def of(cls, p: Payment) -> "PaymentOut":
        r, c = p.registration, p.charging
        return cls(
            payment_id=p.payment_id,
            order_id=p.order_id,
            order_number=p.order_number,
            method=p.method,
            status=p.status.value,
            amount_cents=p.amount_cents,
            instructions=InstructionsOut.of(p.instructions),
            usual_registration_days=p.usual_registration_days,
            registered_at=r.at if r else None,
            registered_amount_cents=r.amount_cents if r else None,
            refunded_cents=p.refunded_cents,
            charge_attempts=c.attempts if c else 0,
            next_attempt_on=rome_date(p.next_attempt_at) if p.next_attempt_at else None,
            last_failure=c.last_failure if c else None,
        )


class MethodOut(BaseModel):
    name: str
    usual_registration_days: int

    @classmethod
    def of(cls, m: PaymentMethod) -> "MethodOut":
        return cls(name=m.name, usual_registration_days=m.usual_registration_days)


class StoredMethodIn(Body):
    provider_customer: Text = Field(description="The provider's customer id, e.g. `cus_...`.")
    provider_method: Text = Field(description="The provider's payment method, e.g. `pm_...`.")
    label: Text = Field(description="What the customer sees, e.g. `Visa **** 4242`.")
    mandate_reference: Text | None = Field(
        default=None, description="SEPA direct debit: the mandate the customer signed."
    )


class StoredMethodOut(BaseModel):
    method: str
    label: str
    registered_at: datetime

    @classmethod
    def of(cls, s: StoredMethod) -> "StoredMethodOut":
        return cls(method=s.method, label=s.label, registered_at=s.registered_at)


class ResolutionOut(BaseModel):
    action: str
    by: str
    at: datetime
    note: str
    order_number: str | None


class ReviewOut(BaseModel):
    review_id: str
    reason: str
    status: str
    opened_at: datetime
    detail: str
    amount_cents: int = Field(description="What arrived.")
    expected_cents: int | None
    refundable_cents: int = Field(description="What a refund gives back.")
    order_number: str | None
    order_id: str | None
    payment_id: str | None
    source: str
    remittance: str | None
    payer: str | None
    booked_on: str | None
    resolution: ResolutionOut | None

    @classmethod
    def of(cls, r: ReviewItem) -> "ReviewOut":
        res = r.resolution
        return cls(
            review_id=r.review_id,
            reason=r.reason.value,
            status=r.status.value,
            opened_at=r.opened_at,
            detail=r.detail,
            amount_cents=r.amount_cents,
            expected_cents=r.expected_cents,
            refundable_cents=r.refund_cents,
            order_number=r.order_number,
            order_id=r.order_id,
            payment_id=r.payment_id,
            source=r.source,
            remittance=r.remittance,
            payer=r.payer,
            booked_on=r.booked_on,
            resolution=ResolutionOut(
                action=res.action.value,
                by=res.by,
                at=res.at,
                note=res.note,
                order_number=res.order_number,
            )
            if res
            else None,
        )


class ResolveIn(Body):
    action: Literal["register", "refund", "dismiss"]
    note: str = Field(default="", max_length=2000)
    order_number: Text | None = Field(
        default=None, description="`register`: the order the money is for, if not the one quoted."
    )


class EntryOut(BaseModel):
    where: str = Field(description="Its place in the file: `Stmt[1]/Ntry[3]`, `line 7`, ...")
    outcome: Literal["registered", "review", "ignored", "already_imported"]
    reason: str | None = Field(
        description="Why: the review's reason (e.g. `unknown_reference`, `foreign_currency`), "
        "or why it was ignored (`debit`, `reversal`, `not_booked`, `zero`)."
    )
    reference: str | None = Field(description="The reference that identifies the transaction.")
    amount: str = Field(description="As written in the file, with its currency.")
    amount_cents: int | None
    order_number: str | None
    review_id: str | None
    detail: str

    @classmethod
    def of(cls, e: EntryResult) -> "EntryOut":
        return cls(**{**vars(e), "outcome": e.outcome.value})


class ImportOut(BaseModel):
    statement_id: str
    format: str
    first_import: bool
    credits: int
    registered: int
    reviews_opened: int
    already_imported: int = Field(description="Credits seen in an earlier import: untouched.")
    ignored: int = Field(description="Debits, unbooked, reversed or zero entries.")
    entries: list[EntryOut] = Field(description="What happened to each entry, in file order.")

    @classmethod
    def of(cls, r: ImportResult) -> "ImportOut":
        return cls(**r.counts(), entries=[EntryOut.of(e) for e in r.entries])
