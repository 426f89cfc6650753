"""camt.053 and CSV statements: real-shaped files, exact cents, problems named by place."""

from datetime import date
from textwrap import dedent

import pytest

from rinnovo.payments.adapters.camt import parse_camt
from rinnovo.payments.adapters.csv_statement import parse_csv
from rinnovo.payments.domain.money import BadAmount, cents_from_text
from rinnovo.payments.domain.statements import Ignored, IgnoredEntry, InvalidStatement

NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


def camt(entries: str, ns: str = NS) -> bytes:
    return (
        (
            f"""\
        <?xml version="1.0" encoding="UTF-8"?>
        <Document xmlns="{ns}">
          <BkToCstmrStmt>
            <GrpHdr><MsgId>STMT-2026-03-02</MsgId><CreDtTm>2026-03-02T18:00:00</CreDtTm></GrpHdr>
            <Stmt>
              <Id>STMT-2026-03-02-1</Id>
              <Acct><Id><IBAN>IT60X0542811101000000123456</IBAN></Id></Acct>
              {entries}
            </Stmt>
          </BkToCstmrStmt>
        </Document>
        """
        )
        .strip()
        .encode()
    )


def entry(amount: str, ref: str, text: str, indicator: str = "CRDT", status: str = "BOOK") -> str:
    return f"""
      <Ntry>
        <Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>
        <Sts><Cd>{status}</Cd></Sts>
        <BookgDt><Dt>2026-03-02</Dt></BookgDt><ValDt><Dt>2026-03-02</Dt></ValDt>
        <AcctSvcrRef>{ref}</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><AcctSvcrRef>{ref}</AcctSvcrRef><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
          <Amt Ccy="EUR">{amount}</Amt>
          <RltdPties><Dbtr><Pty><Nm>Studio Rossi</Nm></Pty></Dbtr></RltdPties>
          <RmtInf><Ustrd>{text}</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>"""


def test_credits_become_entries_with_exact_cents_and_the_rest_is_ignored() -> None:
    data = camt(
        entry("122.00", "B1", "Ordine RN-2026-000001")
        + entry("0.10", "B2", "RN-2026-000002")
        + entry("50.00", "B3", "commissioni", indicator="DBIT")
        + entry("99.99", "B4", "in arrivo", status="PDNG")
    )
    statement = parse_camt(data)
    assert statement.statement_id == "STMT-2026-03-02"
    assert [(e.transaction_id, e.amount_cents) for e in statement.credits] == [
        ("B1", 12200),
        ("B2", 10),
    ]
    first = statement.credits[0]
    assert first.remittance == "Ordine RN-2026-000001"
    assert first.payer == "Studio Rossi"
    assert first.booked_on == date(2026, 3, 2)
    assert first.source == "bank:IT60X0542811101000000123456:B1"
    assert statement.ignored == 2
    assert [line.reason for line in statement.lines if isinstance(line, IgnoredEntry)] == [
        Ignored.DEBIT,
        Ignored.NOT_BOOKED,
    ]


def test_a_batch_entry_gives_one_credit_per_transaction() -> None:
    batch = """
      <Ntry><Amt Ccy="EUR">30.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
        <BookgDt><Dt>2026-03-02</Dt></BookgDt><AcctSvcrRef>BATCH</AcctSvcrRef>
        <NtryDtls>
          <TxDtls><Amt Ccy="EUR">10.00</Amt><RmtInf><Ustrd>RN-2026-000001</Ustrd></RmtInf></TxDtls>
          <TxDtls><Amt Ccy="EUR">20.00</Amt><RmtInf><Ustrd>RN-2026-000002</Ustrd></RmtInf></TxDtls>
        </NtryDtls></Ntry>"""
    credits = parse_camt(camt(batch, "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02")).credits
    assert [(c.transaction_id, c.amount_cents) for c in credits] == [
        ("BATCH/1", 1000),
        ("BATCH/2", 2000),
    ]


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (camt(entry("1.0e2", "B1", "x")), "Stmt[1]/Ntry[1]/Amt"),
        (camt(entry("1000000000.01", "B1", "x")), "Stmt[1]/Ntry[1]/Amt"),
        (camt(entry("-5.00", "B1", "x")), "Stmt[1]/Ntry[1]/Amt"),
        (camt(entry("5.00", "B1", "x").replace('"EUR"', '"euro"', 1)), "Stmt[1]/Ntry[1]/Amt"),
        (camt(entry("10.00", "B1", "x", indicator="XXX")), "Stmt[1]/Ntry[1]/CdtDbtInd"),
        (camt(entry("10.00", "B1", "x", status="DONE")), "Stmt[1]/Ntry[1]/Sts"),
        (
            camt(entry("1.00", "B1", "x").replace("<BookgDt><Dt>2026-03-02", "<BookgDt><Dt>03/02")),
            "Stmt[1]/Ntry[1]/BookgDt",
        ),
        (camt(entry("1.00", "B1", "x") + entry("1.00", "B1", "y")), "Stmt[1]/Ntry[2]"),
        (camt(entry("1.00", "B" * 141, "x")), "Stmt[1]/Ntry[1]/AcctSvcrRef"),
        (camt("").replace(b"</Stmt>", b""), "line "),
        (camt("").replace(b"BkToCstmrStmt>", b"CstmrCdtTrfInitn>"), "Document"),
    ],
)
def test_a_bad_file_names_where_the_problem_is(data: bytes, where: str) -> None:
    with pytest.raises(InvalidStatement) as caught:
        parse_camt(data)
    assert caught.value.problems[0].where.startswith(where), caught.value.problems


def test_entities_are_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><Document>&a;</Document>'
    with pytest.raises(InvalidStatement):
        parse_camt(bomb)


def test_csv_statement() -> None:
    data = dedent(
        """\
        transaction_id;date;amount;remittance;payer
        TX-1;02/03/2026;122,00;Ordine RN-2026-000001;Studio Rossi
        TX-2;2026-03-02;-5.00;commissioni;
        """
    ).encode()
    statement = parse_csv(data)
    assert [(c.transaction_id, c.amount_cents, c.booked_on) for c in statement.credits] == [
        ("TX-1", 12200, date(2026, 3, 2))
    ]
    assert statement.ignored == 1


def test_a_bad_csv_line_is_named() -> None:
    data = b"transaction_id,date,amount,remittance\nT1,2026-03-02,10.00,ok\nT2,2026-03-02,1.2.3,x\n"
    with pytest.raises(InvalidStatement) as caught:
        parse_csv(data)
    assert [p.where for p in caught.value.problems] == ["line 3, column amount"]


def test_lines_may_end_in_a_carriage_return() -> None:
    data = b"transaction_id,date,amount,remittance\rT1,2026-03-02,10.00,ok\r\n"
    assert [c.amount_cents for c in parse_csv(data).credits] == [1000]


@pytest.mark.parametrize(
    "data",
    [
        b"_\xc3\x8c\xc2\xb8\r\xc3\x8b",  # a carriage return inside the first line
        b'"transaction_id"x,date,amount,remittance\n',  # text after a closing quote
    ],
)
def test_a_header_that_is_not_csv_is_named(data: bytes) -> None:
    # Both once escaped as csv.Error and answered 500.
    with pytest.raises(InvalidStatement) as caught:
        parse_csv(data)
    assert [p.where for p in caught.value.problems] == ["line 1"]


@pytest.mark.parametrize(
    ("text", "cents"),
    [("0.10", 10), ("1", 100), ("1234,5", 123450), ("8.850", 885), ("1000000000.00000", 10**11)],
)
def test_amounts_are_read_as_decimals(text: str, cents: int) -> None:
    assert cents_from_text(text) == cents


@pytest.mark.parametrize(
    "text", ["1.001", "1,000.00", "1e3", "", "NaN", "1000000000.01", "1" * 21, "1" * 41]
)
def test_amounts_that_would_be_guessed_or_are_too_large_are_refused(text: str) -> None:
    with pytest.raises(BadAmount):
        cents_from_text(text)
