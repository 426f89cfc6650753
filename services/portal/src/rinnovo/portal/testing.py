"""Fast tests' stand-ins for the APIs the portal calls, and sample answers.

The fake answers by method and path from what a test gave it and keeps every request, so a
test can say what the portal sent (and that it sent nothing, when it must not).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from rinnovo.runtime.auth import AuthSettings, issue_token

SECRET = "portal-tests-secret-0123456789abcdef"
Handler = Callable[[httpx.Request], httpx.Response]


def card(service_id: str = "svc-1", **fields: Any) -> dict[str, Any]:
    actions = {"renew": True, "upgrade": True, "reactivate": False, "manage": True}
    actions |= fields.pop("actions", {})
    switchable = fields.get("status", "active") in ("active", "pending_activation")
    automatic = {"enabled": False, "term_years": 1, "payment_method": None}
    automatic |= {"switchable": switchable}
    automatic |= fields.pop("automatic_renewal", {})
    return {
        "service_id": service_id,
        "username": f"{service_id}@fe.example.it",
        "product_id": "fe-standard",
        "status": "active",
        "expiry_date": "2027-03-01",
        "expiry_warning": False,
        "days_to_expiry": 200,
        "storage_quota_gb": 2,
        "storage_used_bytes": 500_000_000,
        "storage_used_percent": 25.0,
        "storage_warning": False,
        "reactivation_deadline": "2027-04-30",
        "actions": actions,
        "automatic_renewal": automatic,
        "help_url": "https://help.example.it/area-clienti",
        **fields,
    }


PRODUCT = {
    "product_id": "fe-standard",
    "name": "Fatturazione Elettronica",
    "promotional": False,
    "allowed_terms_years": [1, 2, 3],
    "options": [
        {
            "option_id": "storage",
            "kind": "storage",
            "name": "Spazio",
            "included": 1,
            "max_quantity": 100,
            "step": 1,
        },
        {
            "option_id": "extra-user",
            "kind": "extra_users",
            "name": "Utente aggiuntivo",
            "included": 0,
            "max_quantity": 50,
            "step": 1,
        },
        {
            "option_id": "nso",
            "kind": "nso",
            "name": "Modulo NSO",
            "included": 0,
            "max_quantity": 1,
            "step": 1,
        },
    ],
}

QUOTE = {
    "lines": [
        {
            "item": "base",
            "description": "Fatturazione Elettronica",
            "quantity": 1,
            "unit_yearly_cents": 2500,
            "years": 1,
            "days": None,
            "amount_cents": 2500,
        }
    ],
    "subtotal_cents": 2500,
    "discount": None,
    "net_cents": 2500,
    "vat_rate_basis_points": 2200,
    "vat_cents": 550,
    "total_cents": 3050,
}


TERMS = {
    "acceptances": [
        {"document": "general_conditions", "version": "2025-01", "url": "https://help.test/gc"},
        {"document": "unfair_terms", "version": "2025-01", "url": "https://help.test/ut"},
        {"document": "privacy", "version": "2025-02", "url": "https://help.test/privacy"},
    ],
    "payment_methods": ["bank_transfer", "card", "sepa_direct_debit"],
    "automatic_renewal_methods": ["card", "sepa_direct_debit"],
}
EVERY_FIELD = [
    "storage_gb",
    "extra_users",
    "nso",
    "payment_method",
    "term_years",
    "automatic_renewal",
    "convention_code",
]


def cart(cart_id: str = "cart-1", **fields: Any) -> dict[str, Any]:
    components = {"storage_gb": 2, "extra_users": 0, "nso": False}
    return {
        "cart_id": cart_id,
        "kind": "renewal",
        "service_id": "svc-1",
        "product_id": "fe-standard",
        "active_components": components,
        "components": components,
        "term_years": 1,
        "payment_method": None,
        "automatic_renewal": False,
        "convention_code": None,
        "changeable": EVERY_FIELD,
        "quote": QUOTE,
        "terms": TERMS,
        **fields,
    }


def problem(status: int, detail: str, errors: list[dict[str, str]] | None = None) -> httpx.Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": "Invalid request",
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return httpx.Response(status, json=body, headers={"content-type": "application/problem+json"})


@dataclass
class FakeApis:
    """The three APIs: answers by method and path pattern; every request is kept."""

    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def on(self, method: str, pattern: str, answer: Handler | Any, status: int = 200) -> None:
        handler = answer if callable(answer) else (lambda _: httpx.Response(status, json=answer))
        self.routes[(method, pattern)] = handler

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for (method, pattern), handler in self.routes.items():
            if request.method == method and re.fullmatch(pattern, request.url.path):
                return handler(request)
        return problem(404, f"no {request.url.path}")

    def sent(self, method: str, pattern: str) -> list[httpx.Request]:
        return [
            r for r in self.requests if r.method == method and re.fullmatch(pattern, r.url.path)
        ]


def token_of(customer_id: str, roles: set[str] | None = None, secret: str = SECRET) -> str:
    return issue_token(AuthSettings(secret=secret), customer_id, roles or {"customer"})


CSRF_FIELD = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


async def csrf_token(client: httpx.AsyncClient, page: str = "/services") -> str:
    """The token of a page's forms (the page also sets this browser's CSRF cookie)."""
    answer = await client.get(page)
    found = CSRF_FIELD.search(answer.text)
    assert found, answer.text[:500]
    return found.group(1)


def order(order_id: str = "o1", **fields: Any) -> dict[str, Any]:
    awaiting = fields.get("status", "awaiting_payment") == "awaiting_payment"
    return {
        "order_id": order_id,
        "number": "2026-000001",
        "kind": "renewal",
        "service_id": "svc-1",
        "placed_at": "2026-11-30T10:00:00Z",
        "status": "awaiting_payment",
        "total_cents": 3050,
        "quantity_gb": 2,
        "years": 1,
        "payment_method": "bank_transfer",
        "payment_due": "2026-12-30",
        "actions": {"pay": awaiting, "cancel": awaiting},
        **fields,
    }
