"""What the pages show of the APIs' answers, and what they send back."""

import json
import re

import httpx

from rinnovo.portal.testing import TERMS, FakeApis, card, cart, csrf_token, order, problem


def buttons(html: str) -> list[str]:
    return [b.strip() for b in re.findall(r"<button[^>]*>([^<]+)</button>", html)]


async def test_a_card_offers_exactly_the_actions_orders_allows(
    portal: httpx.AsyncClient, apis: FakeApis
) -> None:
    apis.on("GET", "/v1/services", [card("svc-1")])
    shown = buttons((await portal.get("/services")).text)
    assert {"Rinnova", "Aumenta spazio", "Upgrade"} <= set(shown)
    assert "Riattiva" not in shown

    apis.on("GET", "/v1/services", [card("svc-1", actions={"renew": False})])
    shown = buttons((await portal.get("/services")).text)
    assert "Rinnova" not in shown and "Upgrade" in shown


async def test_inside_the_window_only_reactivate_is_offered_with_its_last_day(
    portal: httpx.AsyncClient, apis: FakeApis
) -> None:
    expired = card(
        "svc-1",
        status="expired",
        expiry_warning=True,
        days_to_expiry=-10,
        reactivation_deadline="2027-04-30",
        actions={"renew": False, "upgrade": False, "reactivate": True},
    )
    apis.on("GET", "/v1/services", [expired])
    html = (await portal.get("/services")).text
    assert [b for b in buttons(html) if b != "Esci"] == ["Riattiva"]
    assert "Riattivabile fino al" in html and "30/04/2027" in html
    assert "Scaduto" in html
    assert "rinnovo automatico" not in html.lower()  # cannot be switched while expired


async def test_red_is_never_the_only_signal(portal: httpx.AsyncClient, apis: FakeApis) -> None:
    warned = card(
        "svc-1",
        expiry_warning=True,
        days_to_expiry=30,
        storage_warning=True,
        storage_used_percent=85.0,
        storage_used_bytes=1_700_000_000,
    )
    apis.on("GET", "/v1/services", [warned, card("svc-2")])
    html = (await portal.get("/services")).text
    first, second = html.split('id="service-svc-2"')
    assert 'class="warning"' in first and "in scadenza: mancano 30 giorni" in first
    assert "85 %" in first and "quasi esaurito" in first
    assert "1,70 GB / 2 GB" in first
    assert "in scadenza" not in second and "quasi esaurito" not in second


async def test_the_automatic_renewal_switch_says_where_it_is(
    portal: httpx.AsyncClient, apis: FakeApis
) -> None:
    on = {"enabled": True, "payment_method": "card"}
    apis.on("GET", "/v1/services", [card("svc-1", actions={"renew": False}, automatic_renewal=on)])
    html = (await portal.get("/services")).text
    assert "Disattiva il rinnovo automatico" in html
    apis.on("PUT", "/v1/services/svc-1/automatic-renewal", card("svc-1"))
    token = await csrf_token(portal)
    switched = await portal.post(
        "/services/svc-1/automatic-renewal", data={"csrf_token": token, "enabled": "false"}
    )
    assert switched.status_code == 303
    (sent,) = apis.sent("PUT", "/v1/services/svc-1/automatic-renewal")
    assert json.loads(sent.content) == {"enabled": False}


async def test_the_switch_is_the_cards_own_state_not_guessed_from_its_actions(
    portal: httpx.AsyncClient, apis: FakeApis
) -> None:
    # On the expiry day the card offers neither Renew nor Upgrade: the switch was hidden,
    # its state guessed from them. Orders says it is on and can be switched.
    expiry_day = card(
        "svc-1",
        days_to_expiry=0,
        actions={"renew": False, "upgrade": False},
        automatic_renewal={"enabled": True, "payment_method": "card"},
    )
    apis.on("GET", "/v1/services", [expiry_day, card("svc-2")])
    html = (await portal.get("/services")).text
    first, second = html.split('id="service-svc-2"')
    assert "Disattiva il rinnovo automatico" in first
    # Off, it offers only the methods automatic renewal may charge, as orders lists them.
    methods = re.findall(r'<option value="(\w+)">', second.split('name="payment_method"')[1])
    assert methods == ["card", "sepa_direct_debit"]


async def test_a_refusal_is_a_readable_message_on_the_page_not_json(
    portal: httpx.AsyncClient, apis: FakeApis
) -> None:
    apis.on("GET", "/v1/services", [card("svc-1")])
    apis.on(
        "POST",
        "/v1/carts",
        lambda _: problem(409, "order 2026-000042 is awaiting payment: pay or cancel it first"),
    )
    token = await csrf_token(portal)
    answer = await portal.post(
        "/carts", data={"csrf_token": token, "kind": "renewal", "service_id": "svc-1"}
    )
    assert answer.status_code == 409
    assert answer.headers["content-type"].startswith("text/html")
    assert "Al momento non è possibile" in answer.text
    assert "order 2026-000042 is awaiting payment" in answer.text
    assert '"status"' not in answer.text and "problem+json" not in answer.text


async def test_a_refused_convention_code_shows_why_and_keeps_what_was_typed(
    portal: httpx.AsyncClient, apis: FakeApis
) -> None:
    apis.on("GET", "/v1/carts/cart-1", cart())
    reason = "the code PROMO does not apply to Fatturazione Elettronica"
    apis.on(
        "PATCH",
        "/v1/carts/cart-1",
        lambda _: problem(422, reason, [{"field": "convention_code", "message": reason}]),
    )
    token = await csrf_token(portal, "/carts/cart-1")
    answer = await portal.post(
        "/carts/cart-1",
        data={
            "csrf_token": token,
            "step": "cart",
            "convention_code": "promo ",
            "code_action": "apply",
        },
        headers={"X-Portal-Partial": "1"},
    )
    assert answer.status_code == 422
    assert answer.text.lstrip().startswith('<div id="cart-step">')  # only the part redrawn
    assert "Codice non accettato" in answer.text and reason in answer.text
    assert 'value="promo"' in answer.text
    (sent,) = apis.sent("PATCH", "/v1/carts/cart-1")
    assert json.loads(sent.content) == {"convention_code": "promo"}


async def test_a_cart_change_sends_only_the_fields_of_its_step(
    portal: httpx.AsyncClient, apis: FakeApis
) -> None:
    apis.on("GET", "/v1/carts/cart-1", cart())
    apis.on("PATCH", "/v1/carts/cart-1", cart())
    token = await csrf_token(portal, "/carts/cart-1")
    step1 = {
        "csrf_token": token,
        "step": "cart",
        "storage_gb": "5",
        "extra_users": "2",
        "nso_shown": "1",
    }
    assert (await portal.post("/carts/cart-1", data=step1)).headers["location"] == "/carts/cart-1"
    step2 = {
        "csrf_token": token,
        "step": "order",
        "payment_method": "bank_transfer",
        "automatic_renewal_shown": "1",
        "term_years": "3",
    }
    moved = await portal.post("/carts/cart-1", data=step2)
    assert moved.headers["location"] == "/carts/cart-1/order"
    first, second = (json.loads(r.content) for r in apis.sent("PATCH", "/v1/carts/cart-1"))
    assert first == {"storage_gb": 5, "extra_users": 2, "nso": False}
    assert second == {
        "term_years": 3,
        "automatic_renewal": False,
        "payment_method": "bank_transfer",
    }


async def test_confirming_sends_the_three_acceptances_and_an_idempotency_key(
    portal: httpx.AsyncClient, apis: FakeApis
) -> None:
    apis.on("GET", "/v1/carts/cart-1", cart(payment_method="bank_transfer"))
    apis.on("POST", "/v1/carts/cart-1/checkout", order("o1"), status=201)
    form = (await portal.get("/carts/cart-1/order")).text
    key = re.search(r'name="idempotency_key" value="(\w+)"', form)
    assert key and "condizioni generali di contratto" in form and "clausole vessatorie" in form
    token = await csrf_token(portal, "/carts/cart-1/order")
    # The versions the form showed, from orders' cart; links to the documents it names.
    versions = dict(re.findall(r'name="(\w+_version)" value="([\w-]+)"', form))
    assert versions == {
        "general_conditions_version": "2025-01",
        "unfair_terms_version": "2025-01",
        "privacy_version": "2025-02",
    }
    assert 'href="https://help.test/privacy"' in form
    fields = {
        "csrf_token": token,
        "idempotency_key": key.group(1),
        "general_conditions": "on",
        "unfair_terms": "on",
        "privacy": "on",
        **versions,
    }
    placed = await portal.post("/carts/cart-1/checkout", data=fields)
    assert placed.headers["location"] == "/orders/o1/placed"
    (sent,) = apis.sent("POST", "/v1/carts/cart-1/checkout")
    assert sent.headers["idempotency-key"] == key.group(1)
    assert json.loads(sent.content)["acceptances"] == {
        "general_conditions": {"accepted": True, "version": "2025-01"},
        "unfair_terms": {"accepted": True, "version": "2025-01"},
        "privacy": {"accepted": True, "version": "2025-02"},
    }


async def test_a_service_that_does_not_answer_is_a_notice(
    portal: httpx.AsyncClient, apis: FakeApis
) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    apis.on("GET", "/v1/services", down)
    answer = await portal.get("/services")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "10"
    assert "Momentaneamente non disponibile" in answer.text
    assert "I tuoi servizi e ordini non sono raggiungibili" in answer.text
    assert "Traceback" not in answer.text and "ConnectError" not in answer.text


async def test_a_service_that_fails_is_a_notice_too(
    portal: httpx.AsyncClient, apis: FakeApis
) -> None:
    apis.on("GET", "/v1/notifications", lambda _: httpx.Response(500, text="Internal error"))
    answer = await portal.get("/messages")
    assert answer.status_code == 503
    assert "I tuoi messaggi non sono raggiungibili" in answer.text


async def test_another_customers_service_is_a_not_found_page(
    portal: httpx.AsyncClient, apis: FakeApis
) -> None:
    answer = await portal.get("/services/someone-elses")  # the fake answers 404, as orders does
    assert answer.status_code == 404
    assert "Pagina non trovata" in answer.text
    (sent,) = apis.sent("GET", "/v1/services/someone-elses")
    assert sent.headers["authorization"]


async def test_an_id_that_is_not_one_never_reaches_an_api(
    portal: httpx.AsyncClient, apis: FakeApis
) -> None:
    for path in ("/services/..%2Fadmin", "/orders/" + "x" * 300 + "/payment"):
        answer = await portal.get(path)
        assert answer.status_code == 404, path
    assert [r.url.path for r in apis.requests] == []


async def test_cancelling_needs_the_confirmation(portal: httpx.AsyncClient, apis: FakeApis) -> None:
    token = await csrf_token(portal)
    answer = await portal.post("/orders/o1/cancel", data={"csrf_token": token})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/orders/o1/cancel"
    assert apis.sent("POST", "/v1/orders/o1/cancel") == []


async def test_english_is_a_switch_and_only_to_this_site(portal: httpx.AsyncClient) -> None:
    switched = await portal.get("/language/en?next=/orders")
    assert switched.headers["location"] == "/orders"
    assert "portal_language=en" in switched.headers["set-cookie"]
    away = await portal.get("/language/en?next=//evil.example/x")
    assert away.headers["location"] == "/services"
    page = await portal.get("/dev/nothing")
    assert "Page not found" in page.text and '<html lang="en">' in page.text


async def test_pages_say_their_server_time_and_are_private(
    portal: httpx.AsyncClient, apis: FakeApis
) -> None:
    apis.on("GET", "/v1/services", [card()])
    answer = await portal.get("/services")
    assert re.fullmatch(r"app;dur=[\d.]+, api;dur=[\d.]+", answer.headers["server-timing"])
    assert answer.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


async def test_a_cart_shows_only_the_fields_and_methods_orders_says_it_takes(
    portal: httpx.AsyncClient, apis: FakeApis
) -> None:
    upgrade = cart(
        kind="upgrade",
        changeable=["storage_gb", "extra_users", "nso", "payment_method"],
        terms={**TERMS, "payment_methods": ["bank_transfer"]},
    )
    apis.on("GET", "/v1/carts/cart-1", upgrade)
    step1 = (await portal.get("/carts/cart-1")).text
    step2 = (await portal.get("/carts/cart-1/order")).text
    assert 'id="code-form"' not in step1
    assert 'name="term_years"' not in step2 and 'name="automatic_renewal"' not in step2
    # Payments also offers card; orders does not take it for this cart.
    assert re.findall(r'name="payment_method" value="(\w+)"', step2) == ["bank_transfer"]
