"""Bank statement files made here, shaped as the published schemas lay them out, for the
payments tests and the cross-service ones: camt.053 and camt.054 of every version from 001.02
to 001.13, and MT940.

The versions differ where banks' files differ: up to 001.07 the status is ``<Sts>BOOK</Sts>``
and the payer ``Dbtr/Nm``; from 001.08 ``Sts/Cd`` and ``Dbtr/Pty/Nm``; 001.02 has a
transaction's amount only under ``AmtDtls``."""

from dataclasses import dataclass, field
from xml.sax.saxutils import escape

IBAN = "IT60X0542811101000000123456"
VERSIONS = tuple(f"001.{n:02d}" for n in range(2, 14))
MESSAGES = {
    "053": ("BkToCstmrStmt", "Stmt"),
    "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn"),
    "052": ("BkToCstmrAcctRpt", "Rpt"),
}


@dataclass(frozen=True)
class Tx:
    """A ``TxDtls``: what is ``None`` is left out."""

    ref: str | None = None
    amount: str | None = None
    currency: str = "EUR"
    end_to_end: str | None = "NOTPROVIDED"
    proprietary: str | None = None
    text: str | None = None
    structured: str | None = None
    additional: str | None = None
    payer: str | None = "Studio Rossi"


@dataclass(frozen=True)
class Ntry:
    amount: str | None
    currency: str = "EUR"
    indicator: str = "CRDT"
    status: str = "BOOK"
    ref: str | None = None
    entry_ref: str | None = None
    booked: str | None = "2026-03-02"
    value: str | None = "2026-03-02"
    reversal: bool = False
    info: str | None = None
    txs: tuple[Tx, ...] = ()


@dataclass(frozen=True)
class Report:
    """A ``Stmt``, ``Ntfctn`` or ``Rpt``."""

    entries: tuple[Ntry, ...]
    id: str | None = "STMT-2026-03-02"
    iban: str = IBAN
    currency: str = "EUR"
    sequence: str | None = "61"


def _el(tag: str, value: str | None, attrs: str = "") -> str:
    return "" if value is None else f"<{tag}{attrs}>{escape(value)}</{tag}>"


def _tx(tx: Tx, version: str) -> str:
    new = version >= "001.08"
    refs = _el("AcctSvcrRef", tx.ref) + _el("EndToEndId", tx.end_to_end)
    if tx.proprietary:
        refs += f"<Prtry><Tp>BANK</Tp>{_el('Ref', tx.proprietary)}</Prtry>"
    ccy = f' Ccy="{tx.currency}"'
    amount = ""
    if tx.amount is not None:
        in_details = f"<AmtDtls><TxAmt>{_el('Amt', tx.amount, ccy)}</TxAmt></AmtDtls>"
        amount = in_details if version == "001.02" else _el("Amt", tx.amount, ccy)
    payer = ""
    if tx.payer:
        name = _el("Nm", tx.payer)
        payer = f"<RltdPties><Dbtr>{f'<Pty>{name}</Pty>' if new else name}</Dbtr></RltdPties>"
    strd = ""
    if tx.structured or tx.additional:
        ref = f"<CdtrRefInf>{_el('Ref', tx.structured)}</CdtrRefInf>" if tx.structured else ""
        strd = f"<Strd>{ref}{_el('AddtlRmtInf', tx.additional)}</Strd>"
    rmt = f"<RmtInf>{_el('Ustrd', tx.text)}{strd}</RmtInf>" if tx.text or strd else ""
    return f"<TxDtls><Refs>{refs}</Refs>{amount}{payer}{rmt}</TxDtls>"


def _day(tag: str, value: str | None) -> str:
    if value is None:
        return ""
    inner = _el("DtTm", value) if "T" in value else _el("Dt", value)
    return f"<{tag}>{inner}</{tag}>"


def _ntry(e: Ntry, version: str) -> str:
    status = _el("Sts", e.status) if version < "001.08" else f"<Sts>{_el('Cd', e.status)}</Sts>"
    details = "".join(_tx(tx, version) for tx in e.txs)
    return (
        "<Ntry>"
        + _el("NtryRef", e.entry_ref)
        + _el("Amt", e.amount, f' Ccy="{e.currency}"')
        + _el("CdtDbtInd", e.indicator)
        + ("<RvslInd>true</RvslInd>" if e.reversal else "")
        + status
        + _day("BookgDt", e.booked)
        + _day("ValDt", e.value)
        + _el("AcctSvcrRef", e.ref)
        + "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly>"
        + "</Domn></BkTxCd>"
        + (f"<NtryDtls>{details}</NtryDtls>" if details else "")
        + _el("AddtlNtryInf", e.info)
        + "</Ntry>\n"
    )


def _report(r: Report, tag: str, version: str) -> str:
    opening = _el("Amt", "1000.00", f' Ccy="{r.currency}"')
    balance = (
        f"<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>{opening}"
        "<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-01</Dt></Dt></Bal>"
        if tag == "Stmt"
        else ""
    )
    return (
        f"<{tag}>"
        + _el("Id", r.id)
        + _el("ElctrncSeqNb", r.sequence)
        + "<CreDtTm>2026-03-02T19:00:00</CreDtTm>"
        + f"<Acct><Id><IBAN>{r.iban}</IBAN></Id><Ccy>{r.currency}</Ccy></Acct>"
        + balance
        + "\n"
        + "".join(_ntry(e, version) for e in r.entries)
        + f"</{tag}>"
    )


def camt(
    *reports: Report, kind: str = "053", version: str = "001.08", message_id: str = "MSG-0302"
) -> bytes:
    """A camt.053 (``kind="053"``), camt.054 or camt.052 file of the given version."""
    message, tag = MESSAGES[kind]
    ns = f"urn:iso:std:iso:20022:tech:xsd:camt.{kind}.{version}"
    body = "".join(_report(r, tag, version) for r in reports)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="{ns}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<{message}><GrpHdr>{_el('MsgId', message_id)}<CreDtTm>2026-03-02T19:00:00</CreDtTm>"
        f"</GrpHdr>\n{body}</{message}></Document>\n"
    ).encode()


@dataclass(frozen=True)
class Line61:
    """A ``:61:`` line and its ``:86:``."""

    amount: str
    mark: str = "C"
    bank_ref: str | None = None
    own_ref: str = "NONREF"
    text: str = ""
    day: str = "260302"


@dataclass(frozen=True)
class Mt940:
    lines: tuple[Line61, ...]
    reference: str = "STMT0302"
    account: str = IBAN
    currency: str = "EUR"
    number: str = "61/1"
    header: bool = True
    extra: list[str] = field(default_factory=list)

    def render(self) -> bytes:
        out = ["{1:F01BPMOIT22AXXX0000000000}{2:O940BPMOIT22AXXXN}{4:"] if self.header else []
        out += [f":20:{self.reference}", f":25:{self.account}", f":28C:{self.number}"]
        out.append(f":60F:C260301{self.currency}1000,00")
        for line in self.lines:
            bank = f"//{line.bank_ref}" if line.bank_ref else ""
            out.append(
                f":61:{line.day}{line.day[2:]}{line.mark}{line.amount}NTRF{line.own_ref}{bank}"
            )
            if line.text:
                out.append(f":86:{line.text}")
        out += [f":62F:C260302{self.currency}1000,00", *self.extra]
        if self.header:
            out.append("-}")
        return ("\r\n".join(out) + "\r\n").encode()
