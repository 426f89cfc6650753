"""The other services' APIs as one customer uses them: every call carries that customer's
token, so each service decides what they may see, exactly as for any other client."""

import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, TypeAdapter

from rinnovo.portal.upstream import Upstream
from rinnovo.portal.views import (
    Card,
    Cart,
    Message,
    MessageText,
    Method,
    Order,
    Payment,
    Product,
    Terms,
    Timeline,
)

M = TypeVar("M", bound=BaseModel)


def _at(*parts: str) -> str:
    """A path whose ids are escaped: an id from a URL stays one path segment."""
    return "/v1/" + "/".join(quote(part, safe="") for part in parts)


@cache
def _list_of(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def _many(model: type[M], body: Any) -> list[M]:
    found: list[M] = _list_of(model).validate_python(body)
    return found


@dataclass
class Upstreams:
    """The APIs the portal calls, shared by every request."""

    orders: Upstream
    payments: Upstream
    notifier: Upstream
    catalog_cache_seconds: float
    _products: tuple[float, dict[str, Product]] | None = field(default=None, repr=False)
    _methods: tuple[float, list[Method]] | None = field(default=None, repr=False)
    _terms: tuple[float, Terms] | None = field(default=None, repr=False)

    def _fresh(self, kept: tuple[float, Any] | None) -> bool:
        return kept is not None and time.monotonic() - kept[0] <= self.catalog_cache_seconds

    async def products(self, token: str) -> dict[str, Product]:
        """Products change rarely and are the same for every customer: kept for a while."""
        if self._products is None or not self._fresh(self._products):
            body = await self.orders.call("GET", "/v1/catalog/products", token)
            self._products = (time.monotonic(), {p.product_id: p for p in _many(Product, body)})
        return self._products[1]

    async def methods(self, token: str) -> list[Method]:
        """The payment methods offered, the same for every customer: kept for a while."""
        if self._methods is None or not self._fresh(self._methods):
            body = await self.payments.call("GET", "/v1/payment-methods", token)
            self._methods = (time.monotonic(), _many(Method, body))
        return self._methods[1]

    async def terms(self, token: str) -> Terms:
        """The documents to accept and the methods orders accepts: kept for a while."""
        if self._terms is None or not self._fresh(self._terms):
            body = await self.orders.call("GET", "/v1/terms", token)
            self._terms = (time.monotonic(), Terms.model_validate(body))
        return self._terms[1]

    async def aclose(self) -> None:
        for upstream in (self.orders, self.payments, self.notifier):
            await upstream.aclose()


@dataclass(frozen=True)
class CustomerApis:
    upstreams: Upstreams
    customer_id: str
    token: str

    async def _orders(self, method: str, path: str, **kwargs: Any) -> Any:
        return await self.upstreams.orders.call(method, path, self.token, **kwargs)

    # ---- services ----

    async def products(self) -> dict[str, Product]:
        return await self.upstreams.products(self.token)

    async def terms(self) -> Terms:
        return await self.upstreams.terms(self.token)

    async def cards(self) -> list[Card]:
        return _many(Card, await self._orders("GET", "/v1/services"))

    async def card(self, service_id: str) -> Card:
        return Card.model_validate(await self._orders("GET", _at("services", service_id)))

    async def timeline(self, service_id: str) -> Timeline:
        body = await self._orders("GET", _at("services", service_id, "timeline"))
        return Timeline.model_validate(body)

    async def service_orders(self, service_id: str) -> list[Order]:
        return _many(Order, await self._orders("GET", _at("services", service_id, "orders")))

    async def switch_automatic_renewal(
        self, service_id: str, enabled: bool, term_years: int | None, method: str | None
    ) -> Card:
        body: dict[str, Any] = {"enabled": enabled}
        if term_years is not None:
            body["term_years"] = term_years
        if method:
            body["payment_method"] = method
        path = _at("services", service_id, "automatic-renewal")
        return Card.model_validate(await self._orders("PUT", path, json=body))

    # ---- carts and orders ----

    async def start_cart(self, kind: str, service_id: str) -> Cart:
        body = {"kind": kind, "service_id": service_id}
        return Cart.model_validate(await self._orders("POST", "/v1/carts", json=body))

    async def cart(self, cart_id: str) -> Cart:
        return Cart.model_validate(await self._orders("GET", _at("carts", cart_id)))

    async def change_cart(self, cart_id: str, changes: dict[str, Any]) -> Cart:
        body = await self._orders("PATCH", _at("carts", cart_id), json=changes)
        return Cart.model_validate(body)

    async def checkout(
        self, cart_id: str, acceptances: dict[str, dict[str, Any]], idempotency_key: str
    ) -> Order:
        body = await self._orders(
            "POST",
            _at("carts", cart_id, "checkout"),
            json={"acceptances": acceptances},
            headers={"Idempotency-Key": idempotency_key},
        )
        return Order.model_validate(body)

    async def orders(self) -> list[Order]:
        return _many(Order, await self._orders("GET", "/v1/orders"))

    async def order(self, order_id: str) -> Order:
        return Order.model_validate(await self._orders("GET", _at("orders", order_id)))

    async def cancel(self, order_id: str) -> Order:
        body = await self._orders("POST", _at("orders", order_id, "cancel"), json={"confirm": True})
        return Order.model_validate(body)

    # ---- payments ----

    async def payments_of(self, order_id: str) -> list[Payment]:
        body = await self.upstreams.payments.call(
            "GET", "/v1/payments", self.token, params={"order_id": order_id}
        )
        return _many(Payment, body)

    async def methods(self) -> list[Method]:
        return await self.upstreams.methods(self.token)

    # ---- messages ----

    async def messages(self) -> list[Message]:
        body = await self.upstreams.notifier.call(
            "GET", "/v1/notifications", self.token, params={"limit": "100"}
        )
        return _many(Message, body)

    async def message(self, notification_id: str) -> MessageText:
        path = _at("notifications", notification_id)
        body = await self.upstreams.notifier.call("GET", path, self.token)
        return MessageText.model_validate(body)
