"""ISO 20022 camt.053 (bank-to-customer statement), camt.054 (debit/credit notification) and
camt.052 (intraday account report) files, every version from 001.02 to 001.13, read by one
hardened reader. An intraday report's entries not yet booked are ignored as ``not_booked``;
booked, they are registered, and the end-of-day statement quoting them again by the same
reference registers nothing twice.

The versions differ in their namespace and in a few places the reader looks in turn (the
status as ``Sts`` or ``Sts/Cd``, the payer as ``Dbtr/Nm`` or ``Dbtr/Pty/Nm``, a transaction's
amount as ``Amt`` or under ``AmtDtls``), so namespaces are stripped and elements found by
local name. Each credit becomes a ``BankEntry``: one per transaction detail
(``Ntry/NtryDtls/TxDtls``), since one entry may batch several transfers. Problems are
collected over the whole file and name the element they are in; a file with any problem
imports nothing.
"""

import hashlib
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml.ElementTree import fromstring  # type: ignore[import-untyped]

from rinnovo.payments.adapters.camt_entries import EntryReader, Report
from rinnovo.payments.adapters.statement_formats import FileFormat, without_bom
from rinnovo.payments.domain.statements import InvalidStatement, Lines, Problem, Statement

MESSAGES = {
    "BkToCstmrStmt": ("camt.053", "Stmt"),
    "BkToCstmrDbtCdtNtfctn": ("camt.054", "Ntfctn"),
    "BkToCstmrAcctRpt": ("camt.052", "Rpt"),
}


def _document(data: bytes) -> Element:
    try:
        root: Element = fromstring(data)
    except ParseError as exc:
        line, column = exc.position
        raise InvalidStatement(
            [Problem(f"line {line}, column {column}", f"not well-formed XML ({exc})")]
        ) from exc
    except DefusedXmlException as exc:
        raise InvalidStatement(
            [Problem("document", f"DTDs and entities are not accepted ({exc})")]
        ) from exc
    for el in root.iter():
        if isinstance(el.tag, str):
            el.tag = el.tag.rpartition("}")[2]
    return root


def parse_camt(data: bytes) -> Statement:
    root = _document(data)
    message = next((child for child in root if child.tag in MESSAGES), None)
    if root.tag != "Document" or message is None:
        expected = " or ".join(f"Document/{name}" for name in MESSAGES)
        problem = Problem(root.tag, f"not a camt.053, camt.054 or camt.052 ({expected})")
        raise InvalidStatement([problem])
    fmt, report_tag = MESSAGES[message.tag]
    r = EntryReader()
    message_id = r.reference(message, "GrpHdr/MsgId", message.tag)
    statement_id = message_id or "camt-" + hashlib.sha256(data).hexdigest()[:16]
    reports = message.findall(report_tag)
    if not reports:
        r.problem(f"{message.tag}/{report_tag}", "missing")
    lines = Lines()
    for i, el in enumerate(reports, 1):
        where = f"{report_tag}[{i}]"
        report = _report(r, el, where, statement_id)
        for j, entry in enumerate(el.findall("Ntry"), 1):
            r.entry(entry, report, f"{where}/Ntry[{j}]", lines)
    settled, repeated = lines.settled()
    if r.problems or repeated:
        raise InvalidStatement(r.problems + repeated)
    return Statement(statement_id, fmt, settled)


def _report(r: EntryReader, el: Element, where: str, statement_id: str) -> Report:
    account = r.reference(el, "Acct/Id/IBAN", where) or r.reference(el, "Acct/Id/Othr/Id", where)
    if account is None:
        r.problem(f"{where}/Acct/Id", "missing IBAN or other account id")
    identity = r.reference(el, "Id", where) or r.reference(el, "ElctrncSeqNb", where)
    return Report(account or "?", r.text(el, "Acct/Ccy"), identity or statement_id)


camt = FileFormat(
    name="camt",
    description="ISO 20022 camt.053 statement, camt.054 notification or camt.052 intraday "
    "report, 001.02 to 001.13",
    media_types=("application/xml", "text/xml"),
    suffixes=(".xml", ".camt", ".053", ".054", ".052"),
    sniff=lambda data: without_bom(data).startswith(b"<"),
    reader=parse_camt,
)
