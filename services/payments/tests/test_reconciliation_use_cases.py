"""Bank statements reconciled on the in-memory stores (as ``test_payments_reconciliation``
does on the real servers): each credit registered or sent to review once, whatever is
imported again, interrupted or concurrent."""

from dataclasses import replace
from typing import Any

import pytest

from rinnovo.payments.domain.statement_import import Outcome
from rinnovo.payments.service_layer import callbacks, instructions, reconciliation
from rinnovo.runtime.changes import Changes
from rinnovo.testing.payment_providers import camt053, checkout_completed, euro
from rinnovo.testing.payments import (
    IBAN,
    PaymentsService,
    order_placed,
    statement,
)
from rinnovo.testing.statements import Ntry, Report, Tx, camt


async def place(payments: PaymentsService, *totals: int) -> list[str]:
    """Orders awaiting a bank transfer; their numbers."""
    numbers = []
    for n, total in enumerate(totals, start=1):
        placed = order_placed(n, total)
        await instructions.request_payment(payments.ctx, placed)
        numbers.append(placed.payload.number)
    return numbers


async def test_a_statement_registers_matches_and_reviews_the_rest_once(
    payments: PaymentsService,
) -> None:
    exact, partial, over, twice = await place(payments, 12200, 12200, 12200, 12200)
    file = camt053(
        "STMT-0302",
        [
            ("B-001", 12200, "CRDT", f"Rinnovo ordine {exact}"),
            ("B-002", 12100, "CRDT", f"saldo {partial}"),
            ("B-003", 12700, "CRDT", over.replace("-", " ")),
            ("B-004", 12200, "CRDT", f"ordine {twice}"),
            ("B-005", 12200, "CRDT", f"ordine {twice} bis"),
            ("B-006", 5000, "CRDT", "Bonifico fattura 77"),
            ("B-007", 1250, "DBIT", "commissioni"),
        ],
    )
    imported = await reconciliation.import_statement(payments.ctx, statement(file), "ops")
    assert imported.counts() == {
        "statement_id": "STMT-0302",
        "format": "camt.053",
        "first_import": True,
        "credits": 6,
        "registered": 3,
        "reviews_opened": 4,
        "already_imported": 0,
        "ignored": 1,
    }
    assert [e.outcome for e in imported.entries] == [
        Outcome.REGISTERED,
        Outcome.REVIEW,
        Outcome.REGISTERED,
        Outcome.REGISTERED,
        Outcome.REVIEW,
        Outcome.REVIEW,
        Outcome.IGNORED,
    ]
    again = await reconciliation.import_statement(payments.ctx, statement(file), "ops")
    assert (again.first_import, again.already_imported, again.registered) == (False, 6, 0)
    assert again.reviews_opened == 0

    reviews = await payments.open_reviews()
    assert sorted((r.reason.value, r.order_number) for r in reviews) == sorted(
        [
            ("underpayment", partial),
            ("overpayment", over),
            ("duplicate", twice),
            ("unknown_reference", None),
        ]
    )
    by_reason = {r.reason.value: r for r in reviews}
    assert by_reason["overpayment"].refundable_cents == 500
    assert by_reason["unknown_reference"].remittance == "Bonifico fattura 77"
    statuses = [(await payments.payment(f"pay-ord-00{n}")).status.value for n in (1, 2, 3, 4)]
    assert statuses == ["registered", "pending", "registered", "registered"]
    assert payments.types().count("payments.payment.registered") == 3
    [record] = await payments.ctx.statements.find({})
    assert (record.value.imported_by, record.value.registered) == ("ops", 3)


async def test_an_intraday_report_then_the_statement_register_each_credit_once(
    payments: PaymentsService,
) -> None:
    booked, pending = await place(payments, 12200, 6100)
    morning = [Ntry("122.00", ref="B-1", txs=(Tx(text=booked),))]
    later = Ntry("61.00", ref="B-2", status="PDNG", booked=None, txs=(Tx(text=pending),))
    report = camt(Report((*morning, later)), kind="052", message_id="RPT-0302-1")
    imported = await reconciliation.import_statement(payments.ctx, statement(report), "ops")
    assert [e.outcome for e in imported.entries] == [Outcome.REGISTERED, Outcome.IGNORED]
    # The day's statement books both: the first was registered from the report already.
    day = camt(Report((*morning, replace(later, status="BOOK", booked="2026-03-02"))))
    closed = await reconciliation.import_statement(payments.ctx, statement(day), "ops")
    assert [e.outcome for e in closed.entries] == [Outcome.ALREADY_IMPORTED, Outcome.REGISTERED]
    assert payments.types().count("payments.payment.registered") == 2


async def test_an_unusable_credit_opens_a_review_and_the_rest_is_imported(
    payments: PaymentsService,
) -> None:
    [number] = await place(payments, 6100)
    entries = (
        Ntry(euro(6100), ref="D-1", txs=(Tx(text=f"Rinnovo {number}"),)),
        Ntry("96.00", currency="CHF", ref="D-CHF", info=number),
        Ntry("12.50", indicator="DBIT", ref="D-FEE"),
    )
    file = camt(Report(entries, id="BIG-0302"), message_id="BIG-0302")
    imported = await reconciliation.import_statement(payments.ctx, statement(file), "ops")
    assert (imported.registered, imported.reviews_opened, imported.ignored) == (1, 1, 1)
    [foreign] = [e for e in imported.entries if e.outcome is Outcome.REVIEW]
    assert (foreign.reason, foreign.amount) == ("foreign_currency", "96.00 CHF")
    [review] = await payments.open_reviews()
    assert (review.review_id, review.amount_cents) == (foreign.review_id, 0)
    assert review.detail == "96.00 CHF: only credits in EUR are reconciled"


async def test_csv_credits_for_one_order_and_for_several_orders(
    payments: PaymentsService,
) -> None:
    first, second = await place(payments, 4000, 5000)
    csv = (
        "transaction_id,date,amount,remittance,payer\n"
        f"P-1,2026-03-02,{euro(9000)},{first} e {second},Studio Rossi\n"
        f"P-2,2026-03-02,{euro(4000)},{first},Studio Rossi\n"
    )
    imported = await reconciliation.import_statement(payments.ctx, statement(csv.encode()), "ops")
    assert [(e.outcome, e.reason) for e in imported.entries] == [
        (Outcome.REVIEW, "ambiguous_reference"),
        (Outcome.REGISTERED, None),
    ]
    [ambiguous] = await payments.open_reviews()
    assert (ambiguous.order_number, ambiguous.payer) == (None, "Studio Rossi")


class StopsAfterRecording:
    """The credits' store, dying at its second write: a credit is recorded, then the process
    stops before it is decided."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.writes = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def write(self, writes: Any) -> Any:
        self.writes += 1
        if self.writes == 2:
            raise ConnectionError("the process stopped")
        return await self.store.write(writes)


async def test_an_import_stopped_half_way_is_finished_by_importing_again(
    payments: PaymentsService,
) -> None:
    [number] = await place(payments, 12200)
    file = camt053("STMT-1", [("B-1", 12200, "CRDT", number)])
    stopping = replace(payments.ctx, bank=Changes(StopsAfterRecording(payments.bank)))
    with pytest.raises(ConnectionError):
        await reconciliation.import_statement(stopping, statement(file), "ops")
    assert (await payments.payment("pay-ord-001")).status.value == "registered"

    again = await reconciliation.import_statement(payments.ctx, statement(file), "ops")
    # Recorded but not decided: decided now, and the payment's inbox keeps it from counting twice.
    assert [e.outcome for e in again.entries] == [Outcome.ALREADY_IMPORTED]
    assert payments.types().count("payments.payment.registered") == 1
    assert await payments.open_reviews() == []
    [credit] = await payments.ctx.bank.find({})
    assert credit.value.outcome == "already_imported"


async def test_a_credit_and_a_provider_paying_the_same_order_at_once_register_once(
    payments: PaymentsService,
) -> None:
    await instructions.request_payment(payments.ctx, order_placed(1, 12200, "card"))
    body = checkout_completed("pay-ord-001", 12200, "pi_card_1")
    headers = payments.signed(body)

    async def paid_by_card() -> None:
        await callbacks.provider_callback(payments.ctx, "stripe", body, headers)

    file = camt053("STMT-2", [("B-9", 12200, "CRDT", "RN-2026-000001")])
    racing = payments.meanwhile(paid_by_card)
    imported = await reconciliation.import_statement(racing, statement(file), "ops")
    # Read as pending, written after the card paid: decided again, on the paid payment.
    assert [(e.outcome, e.reason) for e in imported.entries] == [(Outcome.REVIEW, "duplicate")]
    assert payments.types().count("payments.payment.registered") == 1
    [review] = await payments.open_reviews()
    assert (review.reason.value, review.source) == ("duplicate", f"bank:{IBAN}:B-9")
    registration = (await payments.payment("pay-ord-001")).registration
    assert registration is not None and registration.source == "stripe:pi_card_1"


async def test_one_credit_costs_four_store_calls(payments: PaymentsService) -> None:
    """Record the credit, find its order's payment, register it, record the outcome."""
    [number] = await place(payments, 12200)
    file = statement(camt053("STMT-3", [("B-1", 12200, "CRDT", number)]))
    stores = (payments.payments, payments.reviews, payments.bank)
    before = [(s.loads, s.writes) for s in stores]
    await reconciliation.import_statement(payments.ctx, file, "ops")
    calls = [(s.loads - r, s.writes - w) for s, (r, w) in zip(stores, before, strict=True)]
    assert calls == [(1, 1), (0, 0), (0, 2)]  # payments, reviews, credits
