"""ISO 20022 ``camt.053`` (bank-to-customer statement) files, read with a hardened parser.

Every credit booked on the account becomes a ``BankEntry``: one per transaction detail
(``Ntry/NtryDtls/TxDtls``), since one entry may batch several transfers. Problems are
collected over the whole file and name the element they are in, so an operator can fix the
file; a file with any problem imports nothing.
"""

import hashlib
from datetime import date
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml.ElementTree import fromstring  # type: ignore[import-untyped]

from rinnovo.payments.domain.money import BadAmount, cents_from_text
from rinnovo.payments.domain.statements import BankEntry, InvalidStatement, Problem, Statement

NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:camt.053."
CURRENCY = "EUR"
FORMAT = "camt.053"


class _Reader:
    def __init__(self, namespace: str) -> None:
        self.ns = namespace
        self.problems: list[Problem] = []

    def q(self, path: str) -> str:
        return "/".join(f"{{{self.ns}}}{part}" for part in path.split("/"))

    def find(self, el: Element, path: str) -> Element | None:
        return el.find(self.q(path))

    def text(self, el: Element, path: str) -> str | None:
        found = self.find(el, path)
        if found is None or found.text is None or not found.text.strip():
            return None
        return found.text.strip()

    def texts(self, el: Element, path: str) -> list[str]:
        return [f.text.strip() for f in el.findall(self.q(path)) if f.text and f.text.strip()]

    def required(self, el: Element, path: str, where: str) -> str | None:
        value = self.text(el, path)
        if value is None:
            self.problem(f"{where}/{path}", "missing")
        return value

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))

    def amount(self, el: Element | None, where: str) -> int | None:
        if el is None or el.text is None:
            self.problem(where, "missing")
            return None
        currency = el.get("Ccy")
        if currency != CURRENCY:
            self.problem(where, f"currency {currency!r}: only {CURRENCY} accounts are reconciled")
            return None
        try:
            cents = cents_from_text(el.text)
        except BadAmount as exc:
            self.problem(where, str(exc))
            return None
        if cents <= 0:
            self.problem(where, "an amount must be positive")
            return None
        return cents

    def day(self, el: Element, path: str, where: str) -> date | None:
        value = self.text(el, f"{path}/Dt") or (self.text(el, f"{path}/DtTm") or "")[:10]
        if not value:
            self.problem(f"{where}/{path}", "missing")
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.problem(f"{where}/{path}", f"{value!r} is not a date")
            return None


def parse_camt053(data: bytes) -> Statement:
    try:
        root = fromstring(data)
    except ParseError as exc:
        line, column = exc.position
        raise InvalidStatement(
            [Problem(f"line {line}, column {column}", f"not well-formed XML ({exc})")]
        ) from exc
    except DefusedXmlException as exc:
        raise InvalidStatement(
            [Problem("document", f"DTDs and entities are not accepted ({exc})")]
        ) from exc
    namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    if not namespace.startswith(NAMESPACE_PREFIX) or not root.tag.endswith("}Document"):
        raise InvalidStatement(
            [Problem("Document", f"not a camt.053 document (root {root.tag!r})")]
        )
    r = _Reader(namespace)
    statement = r.find(root, "BkToCstmrStmt")
    if statement is None:
        raise InvalidStatement([Problem("Document/BkToCstmrStmt", "missing")])
    message_id = r.required(statement, "GrpHdr/MsgId", "BkToCstmrStmt")
    credits: list[BankEntry] = []
    ignored = 0
    stmts = statement.findall(r.q("Stmt"))
    if not stmts:
        r.problem("BkToCstmrStmt/Stmt", "missing")
    for i, stmt in enumerate(stmts, 1):
        where = f"Stmt[{i}]"
        account = r.text(stmt, "Acct/Id/IBAN") or r.text(stmt, "Acct/Id/Othr/Id")
        if account is None:
            r.problem(f"{where}/Acct/Id", "missing IBAN or other account id")
            account = "?"
        for j, entry in enumerate(stmt.findall(r.q("Ntry")), 1):
            found, skipped = _entry(r, entry, f"{where}/Ntry[{j}]", account)
            credits += found
            ignored += skipped
    seen: set[str] = set()
    for credit in credits:
        if credit.source in seen:
            r.problem("BkToCstmrStmt", f"bank reference {credit.transaction_id!r} repeated")
        seen.add(credit.source)
    if r.problems:
        raise InvalidStatement(r.problems)
    statement_id = message_id or hashlib.sha256(data).hexdigest()[:16]
    return Statement(statement_id, FORMAT, tuple(credits), ignored)


def _entry(r: _Reader, entry: Element, where: str, account: str) -> tuple[list[BankEntry], int]:
    indicator = r.required(entry, "CdtDbtInd", where)
    status = r.text(entry, "Sts/Cd") or r.text(entry, "Sts")
    amount = r.amount(r.find(entry, "Amt"), f"{where}/Amt")
    if indicator not in (None, "CRDT", "DBIT"):
        r.problem(f"{where}/CdtDbtInd", f"{indicator!r} is neither CRDT nor DBIT")
    if status is None:
        r.problem(f"{where}/Sts", "missing")
    reversed_ = (r.text(entry, "RvslInd") or "false").lower() == "true"
    if indicator != "CRDT" or status != "BOOK" or reversed_:
        return [], 1  # money out, not yet booked, or a reversal: nothing received
    booked_on = r.day(entry, "BookgDt", where)
    details = [tx for d in entry.findall(r.q("NtryDtls")) for tx in d.findall(r.q("TxDtls"))]
    entry_ref = r.text(entry, "AcctSvcrRef") or r.text(entry, "NtryRef")
    if not details:
        if entry_ref is None:
            r.problem(f"{where}/AcctSvcrRef", "missing: the bank's reference identifies it")
        remittance = " ".join(r.texts(entry, "AddtlNtryInf"))
        if entry_ref is None or amount is None or booked_on is None:
            return [], 0
        return [BankEntry(entry_ref, account, booked_on, amount, remittance)], 0
    found: list[BankEntry] = []
    total = 0
    for k, tx in enumerate(details, 1):
        tx_where = f"{where}/NtryDtls/TxDtls[{k}]"
        # An element without children is falsy: compare with None, never ``or``.
        tx_amount_el = r.find(tx, "Amt")
        if tx_amount_el is None:
            tx_amount_el = r.find(tx, "AmtDtls/TxAmt/Amt")
        if tx_amount_el is None and len(details) == 1:
            tx_amount = amount
        else:
            tx_amount = r.amount(tx_amount_el, f"{tx_where}/Amt")
        reference = r.text(tx, "Refs/AcctSvcrRef") or r.text(tx, "Refs/TxId")
        if reference is None and entry_ref is not None:
            reference = entry_ref if len(details) == 1 else f"{entry_ref}/{k}"
        if reference is None:
            r.problem(f"{tx_where}/Refs/AcctSvcrRef", "missing: the bank's reference identifies it")
        remittance = " ".join(
            [
                *r.texts(tx, "RmtInf/Ustrd"),
                *r.texts(tx, "RmtInf/Strd/CdtrRefInf/Ref"),
                *r.texts(tx, "AddtlTxInf"),
            ]
        )
        payer = r.text(tx, "RltdPties/Dbtr/Nm") or r.text(tx, "RltdPties/Dbtr/Pty/Nm")
        if tx_amount is not None:
            total += tx_amount
        if reference and tx_amount is not None and booked_on is not None:
            found.append(BankEntry(reference, account, booked_on, tx_amount, remittance, payer))
    if amount is not None and len(found) == len(details) and total != amount:
        r.problem(f"{where}/Amt", "the transaction details do not add up to the entry amount")
    return found, 0
