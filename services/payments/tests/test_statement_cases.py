"""Statements as banks really write them: every camt.053 and camt.054 version, camt.052, MT940
and CSV.

The files in ``statements/`` are made here after the published schemas' structure; each was
refused whole (or read without its order number) before this reader.
"""

from datetime import date
from pathlib import Path

import pytest

from rinnovo.payments.adapters.camt import parse_camt
from rinnovo.payments.adapters.csv_statement import parse_csv
from rinnovo.payments.adapters.mt940_statement import parse_mt940
from rinnovo.payments.adapters.statement_formats import load_statement_formats
from rinnovo.payments.domain.matching import ReviewReason, order_numbers_in
from rinnovo.payments.domain.statements import (
    BankEntry,
    Ignored,
    IgnoredEntry,
    InvalidStatement,
    Statement,
)
from rinnovo.testing.statements import VERSIONS, Line61, Mt940, Ntry, Report, Tx, camt

FILES = Path(__file__).parent / "statements"


def read(name: str) -> Statement:
    return parse_camt((FILES / name).read_bytes())


def credits(statement: Statement) -> list[tuple[str, int, ReviewReason | None]]:
    return [(c.transaction_id, c.amount_cents, c.unusable) for c in statement.credits]


def test_1_amounts_with_more_decimals_that_are_exact_cents_are_read() -> None:
    statement = read("camt053.001.04-three-decimals.xml")
    exact, sub_cent = statement.credits
    assert (exact.amount_cents, exact.unusable, exact.amount) == (885, None, "8.850 EUR")
    # A real fraction of a cent goes to review, saying so; the rest of the file is read.
    assert sub_cent.unusable is ReviewReason.UNUSABLE_AMOUNT
    assert sub_cent.detail == "10.005 EUR has a fraction of a cent"
    assert order_numbers_in(sub_cent.remittance) == ["RN-2026-000102"]
    assert [line.reason for line in statement.lines if isinstance(line, IgnoredEntry)] == [
        Ignored.DEBIT
    ]


def test_2_a_foreign_currency_credit_goes_to_review_and_blocks_nothing() -> None:
    statement = read("camt053.001.08-foreign-entries.xml")
    assert credits(statement) == [
        ("5e4d8c6a-27f3-4c5e-9a36-f0b2d9a1c001", 12200, None),
        # Booked in euro although its transaction was in francs: the entry's amount counts.
        ("FX-0002", 10137, None),
        ("FX-0003", 0, ReviewReason.FOREIGN_CURRENCY),
        ("CH-0002", 0, ReviewReason.FOREIGN_CURRENCY),
    ]
    usd = statement.credits[2]
    assert usd.detail == "150.00 USD: only credits in EUR are reconciled"
    assert usd.remittance == "RN-2026-000203"
    debit = statement.lines[3]
    assert isinstance(debit, IgnoredEntry)
    assert (debit.where, debit.reason, debit.amount) == (
        "Stmt[2]/Ntry[1]",
        Ignored.DEBIT,
        "40.00 CHF",
    )


def test_3_without_a_bank_reference_the_next_best_identifies_the_credit_stably() -> None:
    data = (FILES / "camt053.001.02-no-bank-reference.xml").read_bytes()
    statement = parse_camt(data)
    assert [c.transaction_id for c in statement.credits] == [
        "e2e:E2E-RN-301",
        "prtry:0302-88213",
        "derived:BE-STMT-0302-1:Ntry[3]:24.40 EUR:2026-03-02",
    ]
    assert [c.amount_cents for c in statement.credits] == [6100, 7320, 2440]
    assert parse_camt(data) == statement  # imported again: the same identities


def test_3_a_repeated_payer_reference_is_numbered_a_repeated_bank_reference_refused() -> None:
    e2e = Tx(end_to_end="SAME", text="RN-2026-000001")
    twice = camt(Report((Ntry("1.00", txs=(e2e,)), Ntry("2.00", txs=(e2e,)))))
    assert [c.transaction_id for c in parse_camt(twice).credits] == ["e2e:SAME", "e2e:SAME#2"]
    with pytest.raises(InvalidStatement) as caught:
        parse_camt(camt(Report((Ntry("1.00", ref="B1"), Ntry("2.00", ref="B1")))))
    assert [p.where for p in caught.value.problems] == ["Stmt[1]/Ntry[2]"]
    assert "repeated" in caught.value.problems[0].message


def test_4_without_a_booking_date_the_value_date_is_used() -> None:
    statement = read("camt053.001.06-value-date-only.xml")
    assert [(c.transaction_id, c.booked_on) for c in statement.credits] == [
        ("LT-0302-1", date(2026, 3, 2)),
        ("LT-0302-2", date(2026, 3, 1)),
    ]
    no_date = camt(Report((Ntry("5.00", ref="N1", booked=None, value=None),)))
    assert parse_camt(no_date).credits[0].booked_on is None  # still money received


def test_5_the_order_number_is_read_wherever_the_payer_or_bank_put_it() -> None:
    statement = read("camt053.001.13-reference-text.xml")
    assert [order_numbers_in(c.remittance) for c in statement.credits] == [
        ["RN-2026-000501"],  # Refs/EndToEndId
        ["RN-2026-000502"],  # RmtInf/Strd/AddtlRmtInf
        ["RN-2026-000503"],  # the entry's AddtlNtryInf, next to its TxDtls
    ]
    assert statement.credits[0].payer == "Bianchi Srl"


def test_a_credit_notification_camt054_is_read_like_a_statement() -> None:
    statement = read("camt054.001.08-credit-notification.xml")
    assert statement.format == "camt.054"
    assert credits(statement) == [("NTF-TX-1", 12200, None), ("NTF-TX-2", 6100, None)]
    assert [c.payer for c in statement.credits] == ["Studio Rossi", "Ferri Snc"]


def test_an_intraday_report_camt052_registers_what_is_booked_only() -> None:
    statement = read("camt052.001.08-intraday-report.xml")
    assert statement.format == "camt.052"
    assert credits(statement) == [("RPT-REF-1", 12200, None)]
    assert statement.credits[0].booked_on == date(2026, 3, 3)
    assert statement.credits[0].payer == "Studio Rossi"
    assert [order_numbers_in(c.remittance) for c in statement.credits] == [["RN-2026-000701"]]
    [pending] = [i for i in statement.lines if isinstance(i, IgnoredEntry)]
    assert pending.reason is Ignored.NOT_BOOKED


SAMPLE = Report(
    (
        Ntry("122.00", ref="B1", txs=(Tx(text="Ordine RN-2026-000001"),)),
        Ntry("8.850", txs=(Tx(end_to_end="E2E-7", structured="RN-2026-000002"),)),
        Ntry(
            "30.00",
            ref="BATCH",
            txs=(Tx(amount="10.00", text="RN-2026-000003"), Tx(amount="20.00", text="x")),
        ),
        Ntry("5.00", indicator="DBIT", ref="D1"),
        Ntry("7.00", ref="P1", status="PDNG"),
        Ntry("10.00", ref="R1", reversal=True),
        Ntry("0.00", ref="Z1"),
        Ntry("100.00", currency="CHF", ref="F1"),
        Ntry("10.00", booked=None, value="2026-03-03T10:00:00", info="RN-2026-000005"),
    )
)
EXPECTED = [
    ("B1", 12200, None),
    ("e2e:E2E-7", 885, None),
    ("BATCH/1", 1000, None),
    ("BATCH/2", 2000, None),
    ("F1", 0, ReviewReason.FOREIGN_CURRENCY),
    ("derived:STMT-2026-03-02:Ntry[9]:10.00 EUR:2026-03-03", 1000, None),
]


@pytest.mark.parametrize("kind", ["053", "054"])
@pytest.mark.parametrize("version", VERSIONS)
def test_every_version_is_read_by_the_one_reader(kind: str, version: str) -> None:
    statement = parse_camt(camt(SAMPLE, kind=kind, version=version))
    assert statement.format == f"camt.{kind}"
    assert credits(statement) == EXPECTED
    ignored = [line.reason for line in statement.lines if isinstance(line, IgnoredEntry)]
    assert ignored == [Ignored.DEBIT, Ignored.NOT_BOOKED, Ignored.REVERSAL, Ignored.ZERO]
    first = statement.credits[0]
    assert (first.payer, first.booked_on) == ("Studio Rossi", date(2026, 3, 2))


def test_a_batch_that_does_not_add_up_goes_to_review_whole() -> None:
    batch = Ntry("30.00", ref="B", txs=(Tx(amount="10.00"), Tx(amount="25.00")))
    found = credits(parse_camt(camt(Report((batch,)))))
    assert found == [
        ("B/1", 1000, ReviewReason.UNUSABLE_AMOUNT),
        ("B/2", 2500, ReviewReason.UNUSABLE_AMOUNT),
    ]


def test_mt940_credits_debits_and_reversals() -> None:
    statement = parse_mt940((FILES / "mt940-italian-bank.sta").read_bytes())
    assert statement.format == "mt940"
    assert credits(statement) == [
        ("2603020001", 12200, None),
        ("own:RN2026000702", 6100, None),
        ("derived:0302STMT/61/1::61:[4]:50.00 EUR:2026-03-02", 5000, None),
    ]
    assert order_numbers_in(statement.credits[0].remittance) == ["RN-2026-000701"]
    assert order_numbers_in(statement.credits[1].remittance) == ["RN-2026-000702"]
    ignored = [
        (line.where, line.reason) for line in statement.lines if isinstance(line, IgnoredEntry)
    ]
    assert ignored == [
        ("statement 1 :61:[2]", Ignored.DEBIT),
        ("statement 1 :61:[5]", Ignored.REVERSAL),
    ]


def test_mt940_foreign_sub_cent_and_too_large() -> None:
    foreign = Mt940((Line61("10,00", bank_ref="F"),), currency="CHF").render()
    assert credits(parse_mt940(foreign)) == [("F", 0, ReviewReason.FOREIGN_CURRENCY)]
    sub_cent = Mt940((Line61("10,005", bank_ref="S"),)).render()
    assert credits(parse_mt940(sub_cent)) == [("S", 1000, ReviewReason.UNUSABLE_AMOUNT)]
    for bad in (
        Mt940((Line61("99999999999999", bank_ref="L"),)).render(),
        b"hello",
        b":20:X\n:61:garbage",
    ):
        with pytest.raises(InvalidStatement) as caught:
            parse_mt940(bad)
        assert caught.value.problems


def test_mt940_data_naming_a_file_is_not_read_as_a_path(tmp_path: Path) -> None:
    secret = tmp_path / "statement.sta"
    secret.write_bytes((FILES / "mt940-italian-bank.sta").read_bytes())
    with pytest.raises(InvalidStatement):
        parse_mt940(str(secret).encode())


def test_csv_credits_zero_foreign_and_sub_cent() -> None:
    data = (
        b"transaction_id,date,amount,remittance,currency\n"
        b"T1,2026-03-02,8.850,RN-2026-000001,EUR\n"
        b"T2,2026-03-02,1.001,x,EUR\n"
        b"T3,2026-03-02,5.00,x,CHF\n"
        b"T4,2026-03-02,0,x,EUR\n"
        b"T5,2026-03-02,-3.00,x,CHF\n"
    )
    statement = parse_csv(data)
    assert credits(statement) == [
        ("T1", 885, None),
        ("T2", 100, ReviewReason.UNUSABLE_AMOUNT),
        ("T3", 0, ReviewReason.FOREIGN_CURRENCY),
    ]
    ignored = [
        (line.where, line.reason) for line in statement.lines if isinstance(line, IgnoredEntry)
    ]
    assert ignored == [("line 5", Ignored.ZERO), ("line 6", Ignored.DEBIT)]


@pytest.mark.parametrize("amount", ["100000000000000000000", "1000000000.01", "-99999999999"])
def test_an_amount_above_the_bound_refuses_the_file(amount: str) -> None:
    data = f"transaction_id,date,amount,remittance\nT1,2026-03-02,{amount},x\n".encode()
    with pytest.raises(InvalidStatement) as caught:
        parse_csv(data)
    assert caught.value.problems[0].where == "line 2, column amount"
    assert "above the largest amount" in caught.value.problems[0].message


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("camt053.001.04-three-decimals.xml", "camt"),
        ("mt940-italian-bank.sta", "mt940"),
    ],
)
def test_the_format_is_found_by_content_whatever_the_name(name: str, expected: str) -> None:
    formats = load_statement_formats(["camt", "csv", "mt940"])
    data = (FILES / name).read_bytes()
    found = formats.for_file("download.txt", data)
    assert found is not None and found.name == expected
    csv = b"transaction_id;date;amount;remittance\n"
    assert (formats.for_file("x.dat", csv) or found).name == "csv"
    assert formats.for_media_type("application/x-mt940") is formats.formats["mt940"]
    assert formats.for_media_type("application/vnd.iso+xml") is formats.formats["camt"]


def test_an_unusable_credit_keeps_what_the_review_needs() -> None:
    usd = read("camt053.001.08-foreign-entries.xml").credits[2]
    assert isinstance(usd, BankEntry)
    assert (usd.where, usd.source) == (
        "Stmt[1]/Ntry[3]",
        "bank:IT60X0542811101000000123456:FX-0003",
    )
