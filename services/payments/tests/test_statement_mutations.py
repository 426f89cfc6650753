"""Valid statement files with one element changed, deleted or repeated: nothing but a clear
refusal (problems named by place) or lines that each say what they are ever comes out. A
credit that cannot be reconciled is marked for review with a reason; an amount is never
wrong; the entries the change did not touch read exactly as before; and a credit does not
vanish unless the change touched what makes it one (indicator, status, reversal, amount)."""

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rinnovo.payments.adapters.camt import parse_camt
from rinnovo.payments.adapters.csv_statement import parse_csv
from rinnovo.payments.adapters.mt940_statement import parse_mt940
from rinnovo.payments.domain.money import MAX_CENTS, exact_cents
from rinnovo.payments.domain.statements import (
    BankEntry,
    Ignored,
    IgnoredEntry,
    InvalidStatement,
    Statement,
)
from rinnovo.payments.testing_statements import Line61, Mt940, Ntry, Report, Tx, camt

FILES = Path(__file__).parent / "statements"
CAMT_FILES = [p.read_bytes() for p in sorted(FILES.glob("camt*.xml"))] + [
    camt(
        Report(
            (
                Ntry("122.00", ref="B1", txs=(Tx(text="RN-2026-000001"),)),
                Ntry("30.00", ref="BT", txs=(Tx(amount="10.00"), Tx(amount="20.00"))),
                Ntry("5.00", indicator="DBIT", ref="D1"),
                Ntry("7.50", txs=(Tx(end_to_end="E2E-1", text="RN-2026-000002"),)),
            )
        ),
        kind=kind,
        version=version,
    )
    for kind in ("053", "054")
    for version in ("001.02", "001.08")
]
SPECIAL = [
    "",
    " ",
    "0",
    "0.00",
    "-1.00",
    "8.855",
    "8.850",
    "1e3",
    "NaN",
    "1" * 25,
    "1000000000.01",
    "CRDT",
    "DBIT",
    "BOOK",
    "PDNG",
    "true",
    "2026-02-30",
    "2026-03-02T10:00:00",
    "NOTPROVIDED",
    "RN-2026-000001",
    "CHF",
    "x" * 300,
]
MEANING = {"CdtDbtInd", "Sts", "RvslInd"}
"""An entry's elements whose change may rightly make a credit something else."""

texts = st.one_of(st.sampled_from(SPECIAL), st.text(max_size=40))


@dataclass(frozen=True)
class Mutation:
    index: int
    op: str
    value: str
    amounts_only: bool
    """Pick among the ``Amt`` elements only: where a wrong reading would cost money."""


mutations = st.builds(
    Mutation,
    st.integers(min_value=0, max_value=10_000),
    st.sampled_from(["text", "delete", "repeat", "currency", "drop-currency"]),
    texts,
    st.booleans(),
)


def targets(root: ET.Element, m: Mutation) -> list[ET.Element]:
    elements = list(root.iter())[1:]
    amounts = [e for e in elements if local(e.tag) == "Amt"]
    return amounts if m.amounts_only and amounts else elements


def local(tag: str) -> str:
    return tag.rpartition("}")[2]


def mutate(data: bytes, m: Mutation) -> tuple[bytes, list[str]]:
    """The file changed at one element, and that element's path of local names."""
    root = ET.fromstring(data)
    parents = {child: parent for parent in root.iter() for child in parent}
    elements = targets(root, m)
    target = elements[m.index % len(elements)]
    path = [local(target.tag)]
    at = target
    while at in parents:
        at = parents[at]
        path.insert(0, local(at.tag))
    parent = parents[target]
    if m.op == "text" or (m.op.endswith("currency") and "Ccy" not in target.attrib):
        target.text = m.value
    elif m.op == "delete":
        parent.remove(target)
    elif m.op == "repeat":
        parent.insert(list(parent).index(target), ET.fromstring(ET.tostring(target)))
    elif m.op == "currency":
        target.set("Ccy", m.value)
    else:
        del target.attrib["Ccy"]
    return ET.tostring(root), path


def entry_of(where: str) -> str:
    """``Stmt[1]/Ntry[3]`` of a line's place."""
    return "/".join(where.split("/")[:2])


def check_refusal(exc: InvalidStatement) -> None:
    assert exc.problems
    for problem in exc.problems:
        assert problem.where and problem.message
        assert len(problem.message) < 500


def check_lines(statement: Statement) -> None:
    for line in statement.lines:
        if isinstance(line, IgnoredEntry):
            assert line.reason in set(Ignored)
            continue
        assert isinstance(line, BankEntry)
        assert 0 <= line.amount_cents <= MAX_CENTS
        assert 0 < len(line.source) <= 600
        if line.unusable is None:
            value, currency = line.amount.rsplit(" ", 1)
            assert currency == "EUR"
            assert exact_cents(Decimal(value.replace(",", "."))) == line.amount_cents > 0
        else:
            assert line.detail


def parsed(parse: Callable[[bytes], Statement], data: bytes) -> Statement | None:
    try:
        return parse(data)
    except InvalidStatement as exc:
        check_refusal(exc)
        return None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(CAMT_FILES))), mutations)
def test_camt_with_one_element_changed(file: int, m: Mutation) -> None:
    original = parse_camt(CAMT_FILES[file])
    data, path = mutate(CAMT_FILES[file], m)
    statement = parsed(parse_camt, data)
    if statement is None:
        return
    check_lines(statement)
    if "Ntry" not in path or path[-1] == "Ntry":
        return  # above the entries (account, ids) or an entry added or removed: shifted
    depth = path.index("Ntry")
    changed = [line for line in original.lines if path[depth] in line.where]
    touched = {entry_of(line.where) for line in changed}
    ntry_index = _ntry_position(CAMT_FILES[file], m)
    before = {line.where: line for line in original.lines}
    after = {line.where: line for line in statement.lines}
    for where, line in before.items():
        if entry_of(where) != ntry_index:
            assert after.get(where) == line, (where, touched)
    was_credit = any(
        isinstance(line, BankEntry) for w, line in before.items() if entry_of(w) == ntry_index
    )
    meaning = MEANING & set(path[depth:]) or (path[depth + 1 :] == ["Amt"])
    if was_credit and not meaning:
        assert any(
            isinstance(line, BankEntry) for w, line in after.items() if entry_of(w) == ntry_index
        ), "a credit vanished"


def _ntry_position(data: bytes, m: Mutation) -> str:
    """``Stmt[i]/Ntry[j]`` of the entry holding the element the mutation changes."""
    root = ET.fromstring(data)
    parents = {child: parent for parent in root.iter() for child in parent}
    elements = targets(root, m)
    at = elements[m.index % len(elements)]
    while local(at.tag) != "Ntry":
        at = parents[at]
    report = parents[at]
    statement = parents[report]
    j = [e for e in report if local(e.tag) == "Ntry"].index(at) + 1
    reports = [e for e in statement if local(e.tag) == local(report.tag)]
    return f"{local(report.tag)}[{reports.index(report) + 1}]/Ntry[{j}]"


CSV_FILE = (
    "transaction_id,date,amount,remittance,currency,payer\n"
    "T1,2026-03-02,122.00,RN-2026-000001,EUR,Studio Rossi\n"
    "T2,02/03/2026,-5.00,commissioni,EUR,\n"
    "T3,2026-03-02,61.00,RN-2026-000002,EUR,Ferri\n"
)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=1000), texts)
def test_csv_with_one_cell_changed(cell: int, value: str) -> None:
    rows = list(csv.reader(io.StringIO(CSV_FILE)))
    row = 1 + cell % (len(rows) - 1)
    column = cell % len(rows[0])
    rows[row][column] = value
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    statement = parsed(parse_csv, out.getvalue().encode())
    if statement is None:
        return
    check_lines(statement)
    # A value with a line break moves the lines after it: compare them without their place.
    after = [replace(line, where="") for line in statement.lines]
    for line in parse_csv(CSV_FILE.encode()).lines:
        if line.where != f"line {row + 1}":
            assert replace(line, where="") in after


MT940_FILE = Mt940(
    (
        Line61("122,00", bank_ref="B1", text="RN-2026-000001"),
        Line61("5,00", mark="D", bank_ref="B2"),
        Line61("61,00", own_ref="RN2026000002"),
    )
).render()


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=1000), texts, st.booleans())
def test_mt940_with_one_line_changed(index: int, value: str, keep_tag: bool) -> None:
    lines = MT940_FILE.decode().split("\r\n")
    i = index % len(lines)
    tag = lines[i][: lines[i].find(":", 1) + 1] if lines[i].startswith(":") else ""
    lines[i] = (tag if keep_tag else "") + value
    statement = parsed(parse_mt940, "\r\n".join(lines).encode())
    if statement is not None:
        check_lines(statement)
