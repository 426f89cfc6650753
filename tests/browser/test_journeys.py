"""Customers' journeys in the portal, in Chromium, against the five services as processes
on the real Kafka and MongoDB-wire servers. Each saves a screenshot of where it ends."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.async_api import BrowserContext, Page, expect

from rinnovo.orders.domain.calendar import add_years
from rinnovo.runtime.clock import rome_date
from tests.browser.world import bank_pays, import_service, new_customer, reload_until, sign_in
from tests.e2e.system import ACCEPTANCES, System


def today() -> datetime:
    return datetime.now(UTC)


async def changed(page: Page, action: Callable[[], Awaitable[object]]) -> None:
    """Let a live form's change reach orders and the page be redrawn with the answer."""
    async with page.expect_response(lambda r: r.request.method == "POST" and "/carts/" in r.url):
        await action()


async def confirm_order(page: Page) -> str:
    for document in ("general_conditions", "unfair_terms", "privacy"):
        await page.check(f"#accept-{document}")
    await page.get_by_role("button", name="Conferma").click()
    await page.wait_for_url("**/placed")
    return await page.inner_text("#order-number")


async def test_a_renewal_from_the_card_through_the_cart_to_the_new_expiry(
    system: System, browser: BrowserContext, shots: Path
) -> None:
    customer = new_customer("renew")
    expiry = rome_date(today()) + timedelta(days=30)
    await import_service(system, customer, expiry)
    page = await browser.new_page()
    portal = await sign_in(browser, system, customer)

    await page.goto(f"{portal}/services")
    card = page.locator(f"#service-svc-{customer}")
    await expect(card).to_contain_text("in scadenza: mancano 30 giorni")
    await card.get_by_role("button", name="Rinnova").click()
    await page.wait_for_url("**/carts/*")

    total = page.locator("#total")
    before = await total.inner_text()
    await page.fill("#storage", "3")
    await changed(page, lambda: page.press("#storage", "Tab"))
    await page.fill("#extra-users", "2")
    await changed(page, lambda: page.press("#extra-users", "Tab"))
    assert await total.inner_text() != before
    await page.fill("#code", "NESSUNO")
    await changed(page, lambda: page.get_by_role("button", name="OK").click())
    await expect(page.locator("#convention_code-error")).to_contain_text(
        "Codice non accettato: the code NESSUNO does not exist"
    )
    await page.fill("#code", "ordine-commercialisti")
    await changed(page, lambda: page.get_by_role("button", name="OK").click())
    await expect(page.locator("#cart-step")).to_contain_text(
        "Codice ORDINE-COMMERCIALISTI applicato"
    )

    await page.get_by_role("link", name="Prosegui e completa l'ordine").click()
    await page.wait_for_url("**/order")
    await changed(page, lambda: page.get_by_label("bonifico bancario").check())
    await changed(page, lambda: page.select_option("#term", "2"))
    # "Modify your order" goes back with everything kept.
    await page.get_by_role("link", name="Modifica il tuo ordine").click()
    await expect(page.locator("#storage")).to_have_value("3")
    await expect(page.locator("#extra-users")).to_have_value("2")
    await expect(page.locator("#code")).to_have_value("ORDINE-COMMERCIALISTI")
    await page.get_by_role("link", name="Prosegui e completa l'ordine").click()
    await expect(page.get_by_label("bonifico bancario")).to_be_checked()
    await expect(page.locator("#term")).to_have_value("2")
    quoted = await total.inner_text()

    number = await confirm_order(page)
    assert (await page.inner_text("#amount")).startswith(quoted)
    await expect(page.locator("#iban")).to_have_text("IT60X0542811101000000123456")
    await expect(page.locator("#reference")).to_have_text(number)
    await expect(page.locator("main")).to_contain_text("solo allora la data di scadenza si sposta")
    await page.screenshot(path=shots / "journey-renewal-placed.png", full_page=True)

    await bank_pays(system, customer, number)
    await page.goto(f"{portal}/services")
    await reload_until(page, add_years(expiry, 2).strftime("%d/%m/%Y"))
    await expect(card).not_to_contain_text("in scadenza")
    await page.screenshot(path=shots / "journey-renewal-renewed.png", full_page=True)


async def test_a_reactivation_inside_the_window(
    system: System, browser: BrowserContext, shots: Path
) -> None:
    customer = new_customer("reactivate")
    expiry = rome_date(today()) - timedelta(days=10)
    await import_service(system, customer, expiry, status="expired")
    page = await browser.new_page()
    portal = await sign_in(browser, system, customer)

    await page.goto(f"{portal}/services")
    card = page.locator(f"#service-svc-{customer}")
    await expect(card).to_contain_text("Scaduto")
    await expect(card).to_contain_text((expiry + timedelta(days=60)).strftime("%d/%m/%Y"))
    assert await card.get_by_role("button").all_inner_texts() == ["Riattiva"]
    await card.get_by_role("button", name="Riattiva").click()
    await page.wait_for_url("**/carts/*")
    await expect(page.locator("h1")).to_contain_text("Riattivazione")
    await page.get_by_role("link", name="Prosegui e completa l'ordine").click()
    await changed(page, lambda: page.get_by_label("bollettino postale").check())

    number = await confirm_order(page)
    await expect(page.locator("#postal-account")).to_have_text("000012345678")
    await expect(page.locator("#reference")).to_have_text(number)
    await page.screenshot(path=shots / "journey-reactivation-placed.png", full_page=True)

    await bank_pays(system, customer, number)
    await page.goto(f"{portal}/services")
    await reload_until(page, add_years(expiry, 1).strftime("%d/%m/%Y"))
    await expect(card).to_contain_text("Attivo")
    await expect(card.get_by_role("button", name="Rinnova")).to_be_visible()
    await page.screenshot(path=shots / "journey-reactivation-active.png", full_page=True)


async def test_cancelling_an_order_asks_for_confirmation_by_keyboard(
    system: System, browser: BrowserContext, shots: Path
) -> None:
    customer = new_customer("cancel")
    card = await import_service(system, customer, rome_date(today()) + timedelta(days=60))
    async with system.customer(customer) as me:
        opened = await me.post(
            "/v1/carts", json={"kind": "renewal", "service_id": card["service_id"]}
        )
        cart = opened.json()
        await me.patch(f"/v1/carts/{cart['cart_id']}", json={"payment_method": "bank_transfer"})
        placed = await me.post(
            f"/v1/carts/{cart['cart_id']}/checkout", json={"acceptances": ACCEPTANCES}
        )
    order = placed.json()
    page = await browser.new_page()
    portal = await sign_in(browser, system, customer)
    await page.goto(f"{portal}/orders")
    row = page.locator(f"#order-{order['order_id']}")
    await expect(row).to_contain_text("In attesa pagamento")
    dialog = page.locator(f"#cancel-{order['order_id']}")

    for _ in range(40):  # Tab to the order's Cancel, as a keyboard user does
        await page.keyboard.press("Tab")
        label = await page.evaluate("() => document.activeElement.getAttribute('aria-label')")
        if label == f"Annulla l'ordine {order['number']}":
            break
    else:
        raise AssertionError("Cancel is not reachable with the Tab key")
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text(f"Annullare l'ordine {order['number']}?")
    await page.screenshot(path=shots / "journey-cancel-dialog.png", full_page=True)
    await page.keyboard.press("Escape")  # changed one's mind: nothing happens
    await expect(dialog).to_be_hidden()
    await expect(row).to_contain_text("In attesa pagamento")

    await page.keyboard.press("Enter")  # focus is back on Cancel
    await expect(dialog).to_be_visible()
    await page.keyboard.press("Shift+Tab")  # from "No, keep it" to "Yes, cancel"
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/orders?cancelled=*")
    await expect(page.locator("main")).to_contain_text(
        f"L'ordine {order['number']} è stato annullato."
    )
    await expect(row).to_contain_text("Annullato")
    await expect(row.get_by_role("link")).to_have_count(0)
    await page.screenshot(path=shots / "journey-cancel-done.png", full_page=True)
    async with system.customer(customer) as me:
        assert (await me.get(f"/v1/orders/{order['order_id']}")).json()["status"] == "cancelled"


async def test_another_customers_service_is_not_found(
    system: System, browser: BrowserContext, shots: Path
) -> None:
    owner, intruder = new_customer("owner"), new_customer("intruder")
    card = await import_service(system, owner, rome_date(today()) + timedelta(days=100))
    await import_service(system, intruder, rome_date(today()) + timedelta(days=100))
    page = await browser.new_page()
    portal = await sign_in(browser, system, intruder)

    for path in (f"/services/{card['service_id']}", f"/services/{card['service_id']}/x"):
        answer = await page.goto(portal + path)
        assert answer is not None and answer.status == 404
        await expect(page.locator("h1")).to_have_text("Pagina non trovata")
    await expect(page.locator("main")).not_to_contain_text(card["username"])
    await page.screenshot(path=shots / "journey-not-found.png", full_page=True)
    await page.goto(f"{portal}/services")
    await expect(page.locator(f"#service-svc-{intruder}")).to_be_visible()
    await expect(page.locator(f"#service-{card['service_id']}")).to_have_count(0)
