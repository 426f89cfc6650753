"""What payment providers send, made locally: a stand-in for the Stripe API, Stripe's way of
signing callbacks, and a bank's camt.053 statements. For the payments service's own tests and
the cross-service ones; the card plugin is pointed at the stand-in by address
(``RINNOVO_PAYMENTS_STRIPE_API_BASE``), nothing in it is patched."""

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


@dataclass
class FakeStripe:
    """Answers the few Stripe API calls the card plugin makes, like Stripe does (including
    replaying the first answer for a repeated idempotency key), and records them."""

    charges: list[str] = field(default_factory=list)
    """How the next off-session charges end: `decline` or `succeed`, in order."""
    requests: list[tuple[str, dict[str, str], str]] = field(default_factory=list)
    replies: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    url: str = ""

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.post("/v1/{path:path}")
        async def post(path: str, request: Request) -> JSONResponse:
            key = request.headers.get("idempotency-key", "")
            params = dict(parse_qsl((await request.body()).decode()))
            if key in self.replies:
                status, body = self.replies[key]
                return JSONResponse(body, status_code=status)
            self.requests.append((path, params, key))
            status, body = self.answer(path, params)
            self.replies[key] = (status, body)
            return JSONResponse(body, status_code=status)

        return api

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        n = len(self.requests)
        if path == "checkout/sessions":
            sid = f"cs_test_{n}"
            return 200, {
                "id": sid,
                "object": "checkout.session",
                "url": f"https://checkout.stripe.com/c/pay/{sid}",
                "expires_at": int(time.time()) + 86400,
                "client_reference_id": params.get("client_reference_id"),
                "amount_total": int(params["line_items[0][price_data][unit_amount]"]),
                "payment_status": "unpaid",
                "status": "open",
            }
        if path == "payment_intents":
            intent = {
                "id": f"pi_test_{n}",
                "object": "payment_intent",
                "amount": int(params["amount"]),
                "currency": "eur",
                "metadata": {"payment_id": params.get("metadata[payment_id]")},
            }
            if self.charges.pop(0) == "decline":
                error = {
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": "insufficient_funds",
                    "message": "Your card has insufficient funds.",
                    "payment_intent": {**intent, "status": "requires_payment_method"},
                }
                return 402, {"error": error}
            return 200, {**intent, "status": "succeeded", "amount_received": intent["amount"]}
        return 404, {"error": {"type": "invalid_request_error", "message": f"no {path}"}}


@contextlib.asynccontextmanager
async def running_fake_stripe() -> AsyncIterator[FakeStripe]:
    """The stand-in served on a free port of 127.0.0.1 (``fake.url``) while in the block."""
    fake = FakeStripe()
    server = uvicorn.Server(
        uvicorn.Config(fake.app(), host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        server.should_exit = True
        await task


def stripe_signature(body: bytes, secret: str, at: int | None = None) -> dict[str, str]:
    """The ``Stripe-Signature`` header as Stripe computes it."""
    timestamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return {"Stripe-Signature": f"t={timestamp},v1={mac.hexdigest()}"}


def checkout_completed(payment_id: str, amount_cents: int, intent: str) -> bytes:
    """Stripe's ``checkout.session.completed`` callback for a paid hosted checkout."""
    event = {
        "id": f"evt_{uuid.uuid4().hex[:16]}",
        "object": "event",
        "api_version": "2025-09-30.clover",
        "created": int(time.time()),
        "livemode": False,
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": f"cs_test_{uuid.uuid4().hex[:8]}",
                "object": "checkout.session",
                "client_reference_id": payment_id,
                "amount_total": amount_cents,
                "currency": "eur",
                "payment_status": "paid",
                "status": "complete",
                "payment_intent": intent,
                "metadata": {"payment_id": payment_id},
            }
        },
    }
    return json.dumps(event).encode()


def camt053(
    message_id: str,
    entries: list[tuple[str, int, str, str]],
    iban: str = "IT60X0542811101000000123456",
) -> bytes:
    """A camt.053.001.02 statement as a bank sends it; each entry is (bank reference, cents,
    CRDT/DBIT, remittance text)."""
    ntries = "".join(
        f"""
      <Ntry>
        <Amt Ccy="EUR">{euro(cents)}</Amt>
        <CdtDbtInd>{indicator}</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>2026-03-02</Dt></BookgDt>
        <ValDt><Dt>2026-03-02</Dt></ValDt>
        <AcctSvcrRef>{ref}</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn>
        </BkTxCd>
        <NtryDtls>
          <TxDtls>
            <Refs><AcctSvcrRef>{ref}</AcctSvcrRef><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
            <AmtDtls><TxAmt><Amt Ccy="EUR">{euro(cents)}</Amt></TxAmt></AmtDtls>
            <RltdPties><Dbtr><Nm>Studio Rossi</Nm></Dbtr></RltdPties>
            <RmtInf><Ustrd>{text}</Ustrd></RmtInf>
          </TxDtls>
        </NtryDtls>
      </Ntry>"""
        for ref, cents, indicator, text in entries
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>{message_id}</MsgId><CreDtTm>2026-03-02T19:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>{message_id}-1</Id>
      <ElctrncSeqNb>42</ElctrncSeqNb>
      <CreDtTm>2026-03-02T19:00:00</CreDtTm>
      <Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>EUR</Ccy></Acct>
      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1000.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-02</Dt></Dt></Bal>{ntries}
    </Stmt>
  </BkToCstmrStmt>
</Document>
""".encode()


def euro(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"
