"""What an import answers, entry by entry, and the review item of a credit that cannot be
reconciled: the same in the API's answer and the command line's output."""

import io
from datetime import UTC, date, datetime

import pytest

from rinnovo.payments.cli import report
from rinnovo.payments.domain.matching import Decision, ReviewReason
from rinnovo.payments.domain.reviews import Action, CannotResolve, Resolution
from rinnovo.payments.domain.statement_import import (
    ImportResult,
    Outcome,
    already_imported,
    decided,
    ignored,
    reviewed,
    unusable_review,
)
from rinnovo.payments.domain.statements import BankEntry, Ignored, IgnoredEntry, Statement
from rinnovo.payments.entrypoints.schemas import ImportOut

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


def credit(ref: str, cents: int, **changes: object) -> BankEntry:
    fields: dict[str, object] = {
        "transaction_id": ref,
        "account": "IT60X0542811101000000123456",
        "booked_on": date(2026, 3, 2),
        "amount_cents": cents,
        "remittance": "RN-2026-000001",
        "where": f"Stmt[1]/Ntry[{ref}]",
        "amount": f"{cents / 100:.2f} EUR",
    }
    return BankEntry(**{**fields, **changes})  # type: ignore[arg-type]


PAID = credit("1", 12200)
OVER = credit("2", 12500)
CHF = credit(
    "3",
    0,
    amount="96.00 CHF",
    unusable=ReviewReason.FOREIGN_CURRENCY,
    detail="96.00 CHF: only credits in EUR are reconciled",
)
DEBIT = IgnoredEntry("Stmt[1]/Ntry[4]", Ignored.DEBIT, "5.00 EUR", "D1")
STATEMENT = Statement("S1", "camt.053", (PAID, OVER, CHF, DEBIT))


def result() -> ImportResult:
    entries = [
        decided(PAID, Decision(True), "RN-2026-000001", "rev-1"),
        decided(OVER, Decision(True, ReviewReason.OVERPAYMENT, 300), "RN-2026-000002", "rev-2"),
        reviewed(CHF, ReviewReason.FOREIGN_CURRENCY, "rev-3"),
        ignored(DEBIT),
    ]
    return ImportResult.of(STATEMENT, entries, opened=2, first=True)


def test_each_entry_says_what_happened_and_the_counts_follow() -> None:
    r = result()
    assert [(e.outcome, e.reason) for e in r.entries] == [
        (Outcome.REGISTERED, None),
        (Outcome.REGISTERED, "overpayment"),
        (Outcome.REVIEW, "foreign_currency"),
        (Outcome.IGNORED, "debit"),
    ]
    assert (r.credits, r.registered, r.reviews_opened, r.already_imported, r.ignored) == (
        3,
        2,
        2,
        0,
        1,
    )
    assert r.entries[0].review_id is None  # registered exactly: nothing to review
    assert [e.stored_outcome for e in r.entries[:3]] == [
        "registered",
        "registered+overpayment",
        "foreign_currency",
    ]
    again = already_imported(PAID, "registered")
    assert (again.outcome, again.detail) == (
        Outcome.ALREADY_IMPORTED,
        "imported before: registered",
    )


def test_the_api_answer_and_the_command_line_list_every_entry() -> None:
    answer = ImportOut.of(result()).model_dump()
    assert [(e["where"], e["outcome"], e["reason"]) for e in answer["entries"]] == [
        ("Stmt[1]/Ntry[1]", "registered", None),
        ("Stmt[1]/Ntry[2]", "registered", "overpayment"),
        ("Stmt[1]/Ntry[3]", "review", "foreign_currency"),
        ("Stmt[1]/Ntry[4]", "ignored", "debit"),
    ]
    assert answer["entries"][2]["amount"] == "96.00 CHF"
    out = io.StringIO()
    report(result(), out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "statement S1 (camt.053), first import"
    assert lines[3] == (
        "  Stmt[1]/Ntry[3]  3  96.00 CHF  review (foreign_currency)  rev-3  "
        "96.00 CHF: only credits in EUR are reconciled"
    )
    assert lines[4] == "  Stmt[1]/Ntry[4]  D1  5.00 EUR  ignored (debit)"
    assert "reviews_opened: 2" in lines


def test_an_unreconcilable_credit_opens_a_review_an_operator_can_only_settle_by_hand() -> None:
    item = unusable_review(CHF, "rev-3", NOW)
    assert (item.reason, item.amount_cents, item.detail) == (
        ReviewReason.FOREIGN_CURRENCY,
        0,
        "96.00 CHF: only credits in EUR are reconciled",
    )
    assert item.source == "bank:IT60X0542811101000000123456:3"
    assert (item.remittance, item.booked_on) == ("RN-2026-000001", "2026-03-02")
    with pytest.raises(CannotResolve):
        item.resolve(Resolution(Action.REGISTER, "ops", NOW, order_number="RN-2026-000001"))
    assert item.resolve(Resolution(Action.DISMISS, "ops", NOW, note="returned by the bank"))


def test_a_sub_cent_credit_in_review_registers_only_what_arrived_in_whole_cents() -> None:
    sub_cent = credit("5", 1000, unusable=ReviewReason.UNUSABLE_AMOUNT, detail="10.005 EUR ...")
    item = unusable_review(sub_cent, "rev-5", NOW)
    done = item.resolve(Resolution(Action.REGISTER, "ops", NOW, order_number="RN-2026-000001"))
    assert done.amount_cents == 1000
    nothing = unusable_review(credit("6", 0, unusable=ReviewReason.UNUSABLE_AMOUNT), "r6", NOW)
    with pytest.raises(CannotResolve):
        nothing.resolve(Resolution(Action.REGISTER, "ops", NOW, order_number="RN-2026-000001"))
