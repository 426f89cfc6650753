"""Every page of the portal, in Italian and in English, as the demo customers of ``make run``
see it: axe-core finds no serious or critical violation in any, every control is reached
with the Tab key, and each is saved as a screenshot (``make portal-screenshots`` writes them
to docs/portal/)."""

from pathlib import Path

from playwright.async_api import BrowserContext, Page, expect

from tests.browser.browser import serious_violations, unreachable_by_keyboard
from tests.browser.world import reload_until
from tests.e2e.system import System, eventually

WORDS = {
    "it": {
        "renew": "Rinnova",
        "continue": "Prosegui e completa l'ordine",
        "confirm": "Conferma",
        "bank": "bonifico bancario",
        "sign_out": "Esci",
        "yes": "Sì, annulla l'ordine",
        "cancel": "Annulla l'ordine",
        "not_found": "Pagina non trovata",
        "unavailable": "Momentaneamente non disponibile",
    },
    "en": {
        "renew": "Renew",
        "continue": "Continue and complete the order",
        "confirm": "Confirm",
        "bank": "bank transfer",
        "sign_out": "Sign out",
        "yes": "Yes, cancel the order",
        "cancel": "Cancel order",
        "not_found": "Page not found",
        "unavailable": "Temporarily unavailable",
    },
}


class Tour:
    """Looks at each page as it comes: accessibility, keyboard, screenshot."""

    def __init__(self, page: Page, axe: str, shots: Path, language: str, first: int = 1) -> None:
        self.page, self.axe, self.shots, self.language = page, axe, shots, language
        self.number = first

    async def look(self, name: str, *, keyboard: bool = True) -> None:
        await self.page.wait_for_load_state("networkidle")
        assert await self.page.get_attribute("html", "lang") == self.language
        assert await serious_violations(self.page, self.axe) == [], name
        if keyboard:
            assert await unreachable_by_keyboard(self.page) == [], name
        await self.page.screenshot(
            path=self.shots / f"{self.number:02d}-{name}-{self.language}.png", full_page=True
        )
        self.number += 1


async def demo_ready(system: System) -> None:
    async def ready() -> bool:
        async with system.customer("demo-marco") as me:
            cards = (await me.get("/v1/services")).json()
        return {c["status"] for c in cards} == {"active", "expired", "deactivated"}

    await eventually(ready, what="the demo services, one of them deactivated")


async def renew_and_place(tour: Tour, words: dict[str, str]) -> str:
    """Anna renews her service expiring in 30 days: the cart, the order form, the order."""
    page = tour.page
    card = page.locator("#service-demo-anna-1")
    await card.get_by_role("button", name=words["renew"], exact=True).click()
    await page.wait_for_url("**/carts/*")
    await page.fill("#code", "NESSUNO")
    await page.get_by_role("button", name="OK").click()
    await expect(page.locator("#convention_code-error")).to_be_visible()
    await tour.look("cart-code-refused")
    await page.fill("#code", "ORDINE-COMMERCIALISTI")
    await page.get_by_role("button", name="OK").click()
    await expect(page.locator("#quote")).to_contain_text("ORDINE-COMMERCIALISTI")
    await tour.look("cart")
    await page.get_by_role("link", name=words["continue"]).click()
    async with page.expect_response(lambda r: r.request.method == "POST"):
        await page.get_by_label(words["bank"]).check()
    await tour.look("order-form")
    for document in ("general_conditions", "unfair_terms", "privacy"):
        await page.check(f"#accept-{document}")
    await page.get_by_role("button", name=words["confirm"], exact=True).click()
    await page.wait_for_url("**/placed")
    await expect(page.locator("#iban")).to_be_visible()
    await tour.look("order-placed")
    return page.url.removesuffix("/placed")


async def orders_and_cancel(tour: Tour, words: dict[str, str], order_url: str) -> None:
    page = tour.page
    await page.goto(f"{order_url}/payment")
    await expect(page.locator("#reference")).to_be_visible()
    await tour.look("order-payment")
    await page.goto(order_url.rsplit("/orders/", 1)[0] + "/orders")
    await tour.look("my-orders")
    order_id = order_url.rsplit("/", 1)[1]
    await page.locator(f"#order-{order_id}").get_by_role("link", name=words["cancel"]).click()
    await expect(page.locator(f"#cancel-{order_id}")).to_be_visible()
    await tour.look("my-orders-cancel-dialog", keyboard=False)
    await page.get_by_role("button", name=words["yes"]).click()
    await page.wait_for_url("**/orders?cancelled=*")
    await tour.look("my-orders-cancelled")


async def test_every_page_in_both_languages(
    system: System, browser: BrowserContext, shots: Path, axe: str
) -> None:
    await demo_ready(system)
    portal = system.processes.url("portal")
    page = await browser.new_page()
    for language in ("it", "en"):
        words = WORDS[language]
        tour = Tour(page, axe, shots, language)
        await page.goto(f"{portal}/language/{language}?next=/dev/sign-in")
        await tour.look("dev-sign-in")
        await page.get_by_role("button", name="Anna Bianchi").click()
        await page.wait_for_url("**/services")
        await tour.look("my-services")
        await page.goto(f"{portal}/services/demo-anna-2")
        await tour.look("service-timeline")
        await page.goto(f"{portal}/services")
        order_url = await renew_and_place(tour, words)
        await orders_and_cancel(tour, words, order_url)
        await page.goto(f"{portal}/messages")
        await reload_until(page, "@example.it")
        await tour.look("messages")
        await page.locator("main table a").first.click()
        await tour.look("message")
        await page.goto(f"{portal}/services/demo-marco-1")
        await expect(page.locator("h1")).to_have_text(words["not_found"])
        await tour.look("not-found")
        await page.get_by_role("button", name=words["sign_out"]).click()
        await page.get_by_role("button", name="Marco Rossi").click()
        await page.wait_for_url("**/services")
        await tour.look("my-services-expired-deactivated-promo")
        await page.get_by_role("button", name=words["sign_out"]).click()


async def test_a_service_that_is_down_is_a_notice(
    system: System, browser: BrowserContext, shots: Path, axe: str
) -> None:
    await demo_ready(system)
    portal = system.processes.url("portal")
    page = await browser.new_page()
    await page.goto(f"{portal}/dev/sign-in")
    await page.get_by_role("button", name="Anna Bianchi").click()
    system.processes.kill("notifier")
    try:
        for language in ("it", "en"):
            await page.goto(f"{portal}/language/{language}?next=/messages")
            await expect(page.locator("h1")).to_have_text(WORDS[language]["unavailable"])
            await Tour(page, axe, shots, language, first=20).look("service-down")
        await page.goto(f"{portal}/services")  # the rest of the portal still serves
        await expect(page.locator("#service-demo-anna-1")).to_be_visible()
    finally:
        system.processes.start("notifier")
        system.processes.wait_ready("notifier")
