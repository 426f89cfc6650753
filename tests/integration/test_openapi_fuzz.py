"""Every service's HTTP API fuzzed by schemathesis from its own OpenAPI document.

Each service runs in-process on the real servers, served by uvicorn on a local port. Its
document is read from the app (``/openapi.json``); schemathesis generates requests from it,
valid ones and invalid ones, with a customer token (an admin token under ``/v1/admin``), and
checks every answer: never a server error, and status code, content type, headers and body as
the document says. Some data is put in first so that reads answer with real objects, and the
known ids are also used as path parameters, so requests reach them as well as 404s.

Random values rarely hit an edge, so every operation also gets schemathesis' boundary cases
(each bound, and just past it), after each number and date of a request is widened with the
values that once answered 500 (``openapi_bounds.with_extremes``: 2**64, 9999-12-31, ...);
and the document itself must bound every number and date a request takes.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
import uvicorn
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.overrides import Override
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from rinnovo.contracts.topics import topic_for
from rinnovo.notifier.bootstrap import NotifierSettings
from rinnovo.notifier.bootstrap import build as build_notifier
from rinnovo.payments.bootstrap import PaymentsSettings
from rinnovo.payments.bootstrap import build as build_payments
from rinnovo.runtime.auth import AuthSettings, issue_token
from rinnovo.runtime.clock import SystemClock
from rinnovo.runtime.plugins import BuiltService
from rinnovo.runtime.settings import InfraSettings
from rinnovo.testing.notifier_samples import samples
from rinnovo.testing.payment_providers import running_fake_stripe
from rinnovo.testing.smtp import SmtpServer
from tests.integration.openapi_bounds import unbounded, with_extremes

pytestmark = [
    pytest.mark.integration,
    # Raised by schemathesis' own strategies, not by anything here.
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# The statement import takes CSV as text.
schemathesis.serializer.alias("text/csv", "text/plain")

MAX_EXAMPLES = 20
"""Per operation and kind of request (valid, invalid, valid on known ids); keeps the module
to a few minutes."""

CUSTOMER = "fuzz-customer"
ACCEPTANCES = {
    doc: {"accepted": True, "version": "2025-01"}
    for doc in ("general_conditions", "unfair_terms", "privacy")
}
Wait = Callable[..., Awaitable[None]]


def bearer(subject: str, *roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(AuthSettings(), subject, set(roles))}"}


@contextlib.asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """The app on a local port, run by this event loop (where its clients live)."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def fuzz(
    app: FastAPI,
    known: Mapping[str, str],
    customer: str = CUSTOMER,
    pinned: Mapping[str, str] | None = None,
) -> list[str]:
    """Every problem schemathesis finds in the app's API, one text per operation at fault;
    ``pinned`` body fields always take the value given (see ``with_extremes``)."""
    async with AsyncClient(transport=ASGITransport(app), base_url="http://app") as client:
        document = (await client.get("/openapi.json")).json()
    problems = [f"unbounded in the document: {where}" for where in unbounded(document)]
    schema = schemathesis.openapi.from_dict(with_extremes(document, pinned))
    async with served(app) as base_url:
        # Hypothesis drives requests synchronously: it runs in a thread while this loop serves.
        found = await asyncio.to_thread(_fuzz_operations, schema, base_url, known, customer)
    return problems + found


def boundary_cases(
    operation: Any, headers: dict[str, str], path_parameters: dict[str, str]
) -> list[schemathesis.Case]:
    """Schemathesis' coverage phase: each bound and just past it, each enumerated value
    (the extremes among them), every required field left out, and so on."""
    generator = CoverageGenerator(
        operation=operation,
        generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        generation_config=operation.schema.config.generation_for(
            operation=operation, phase="coverage"
        ),
        auth_storage=None,
        override=Override(headers=headers, path_parameters=path_parameters),
        feedback=FeedbackSources(),
    )
    return list(generator)


def _call_boundaries(
    operation: Any,
    base_url: str,
    session: requests.Session,
    headers: dict[str, str],
    path_parameters: dict[str, str],
) -> str | None:
    """The first boundary case the API answers wrongly, described; None if none."""
    for case in boundary_cases(operation, headers, path_parameters):
        try:
            case.call_and_validate(base_url=base_url, session=session, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:
            return f"{operation.label} (boundary case):\n{exc}"
    return None


def _fuzz_operations(
    schema: schemathesis.BaseSchema, base_url: str, known: Mapping[str, str], subject: str
) -> list[str]:
    customer = bearer(subject, "customer")
    admin = bearer("fuzz-operator", "admin")
    problems = []
    answered: set[str] = set()
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()
            headers = admin if operation.path.startswith("/v1/admin") else customer
            strategies = [
                operation.as_strategy(generation_mode=mode, headers=headers)
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
            ]
            names = [p.name for p in operation.path_parameters]
            if names and all(name in known for name in names):
                strategies.append(
                    operation.as_strategy(
                        headers=headers, path_parameters={name: known[name] for name in names}
                    )
                )

            @hypothesis.settings(
                max_examples=MAX_EXAMPLES * len(strategies),
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate, Phase.shrink],
                suppress_health_check=list(HealthCheck),
                report_multiple_bugs=False,
            )
            @given(case=st.one_of(strategies))
            def check(case: schemathesis.Case) -> None:
                case.call_and_validate(base_url=base_url, session=session, checks=CHECKS)
                answered.add(case.operation.label)

            try:
                check()
            except (Exception, BaseExceptionGroup) as exc:
                problems.append(f"{operation.label}:\n{exc}")
            else:
                if operation.label not in answered:
                    problems.append(f"{operation.label}: no request was made")
            ids = {name: known[name] for name in names if name in known}
            if (wrong := _call_boundaries(operation, base_url, session, headers, ids)) is not None:
                problems.append(wrong)
    assert answered, "the document has no operations"
    return problems


def report(problems: list[str]) -> str:
    return f"{len(problems)} operation(s) at fault\n\n" + "\n\n".join(problems)


def client(app: FastAPI, subject: str, *roles: str) -> AsyncClient:
    return AsyncClient(
        transport=ASGITransport(app), base_url="http://app", headers=bearer(subject, *roles)
    )


async def test_catalog_api(stack: Any) -> None:
    problems = await fuzz(
        stack.catalog.app, {"product_id": "fe-standard", "code": "ORDINE-COMMERCIALISTI"}
    )
    assert not problems, report(problems)


async def place_order(stack: Any, service_id: str) -> dict[str, Any]:
    """An order of CUSTOMER's service awaiting payment by bank transfer."""
    async with stack.customer(CUSTOMER) as me:
        cart = await me.post("/v1/carts", json={"kind": "renewal", "service_id": service_id})
        assert cart.status_code == 201, cart.text
        url = f"/v1/carts/{cart.json()['cart_id']}"
        changed = await me.patch(url, json={"payment_method": "bank_transfer"})
        assert changed.status_code == 200, changed.text
        placed = await me.post(f"{url}/checkout", json={"acceptances": ACCEPTANCES})
        assert placed.status_code == 201, placed.text
        order: dict[str, Any] = placed.json()
    return order


async def test_orders_api(stack: Any) -> None:
    await stack.import_service(CUSTOMER, service_id="svc-fuzz")
    await stack.import_service(CUSTOMER, service_id="svc-fuzz-open-cart")
    order = await place_order(stack, "svc-fuzz")
    async with stack.customer(CUSTOMER) as me:
        cart = await me.post(
            "/v1/carts", json={"kind": "renewal", "service_id": "svc-fuzz-open-cart"}
        )
        assert cart.status_code == 201, cart.text
    known = {
        "service_id": "svc-fuzz",
        "order_id": order["order_id"],
        "cart_id": cart.json()["cart_id"],
    }
    # Imports and first purchases of a real product reach storage and date arithmetic.
    problems = await fuzz(stack.orders.app, known, pinned={"product_id": "fe-standard"})
    assert not problems, report(problems)


@pytest.fixture
async def payments(stack: Any, database_name: Callable[[str], str]) -> AsyncIterator[BuiltService]:
    """Built as in the payments tests, with Stripe's stand-in (a setup of a stored method is
    made with the provider, so the provider must answer)."""
    async with running_fake_stripe() as stripe:
        built = build_payments(
            PaymentsSettings(
                infra=stack.infra,
                database=database_name("payments"),
                outbox_poll_seconds=0.05,
                scheduler_interval_seconds=0.2,
                methods=["bank_transfer", "postal_slip", "card", "sepa_direct_debit"],
                stripe_api_key="sk_test_fuzz",
                stripe_webhook_secret="whsec_fuzz",
                stripe_api_base=stripe.url,
            ),
            clock=stack.clock,
        )
        async with built.runtime.running():
            yield built


async def test_payments_api(stack: Any, payments: BuiltService, wait_until: Wait) -> None:
    await stack.import_service(CUSTOMER, service_id="svc-fuzz")
    order = await place_order(stack, "svc-fuzz")
    async with client(payments.app, "fuzz-operator", "admin") as ops:

        async def requested() -> bool:
            got = await ops.get("/v1/admin/payments", params={"order_number": order["number"]})
            return got.status_code == 200

        await wait_until(requested)
        payment = await ops.get("/v1/admin/payments", params={"order_number": order["number"]})
        # Money nobody can match: a review item.
        statement = "transaction_id,date,amount,remittance\nT-1,2026-03-02,12.34,unknown\n"
        imported = await ops.post(
            "/v1/admin/statements",
            content=statement.encode(),
            headers={"Content-Type": "text/csv"},
        )
        assert imported.status_code == 200, imported.text
        reviews = (await ops.get("/v1/admin/reviews")).json()
        assert reviews, "the unmatched credit is not in review"
    known = {
        "payment_id": payment.json()["payment_id"],
        "review_id": reviews[0]["review_id"],
        "customer_id": CUSTOMER,
        "method": "card",
        "provider": "stripe",
    }
    problems = await fuzz(payments.app, known)
    assert not problems, report(problems)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


async def test_notifier_api(
    infra: InfraSettings,
    database_name: Callable[[str], str],
    smtp: SmtpServer,
    wait_until: Wait,
) -> None:
    built = build_notifier(
        NotifierSettings(
            infra=infra,
            database=database_name("notifier"),
            outbox_poll_seconds=0.05,
            channels="email,webhook",
            smtp_port=smtp.port,
            smtp_starttls=False,
            retry_initial_seconds=0.2,
            retry_max_seconds=0.5,
            delivery_poll_seconds=0.1,
        ),
        clock=SystemClock(),
    )
    events = [s.event for s in samples("en")]
    customer = events[0].payload.holder.customer_id  # type: ignore[attr-defined]
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap_servers)
    async with built.runtime.running():
        await producer.start()
        try:
            for event in events:
                await producer.send_and_wait(
                    infra.kafka_topic_prefix + topic_for(type(event)).name,
                    event.model_dump_json().encode(),
                    key=event.aggregate_id.encode(),
                )
        finally:
            await producer.stop()
        async with client(built.app, "fuzz-operator", "admin") as ops:
            registered = await ops.post(
                "/v1/admin/webhooks",
                json={"url": "https://crm.example.invalid/hooks", "events": ["service_expired"]},
            )
            assert registered.status_code == 201, registered.text

            async def stored() -> bool:
                return bool((await ops.get("/v1/admin/notifications")).json())

            await wait_until(stored)
            notification = (await ops.get("/v1/admin/notifications")).json()[0]
        known = {
            "notification_id": notification["notification_id"],
            "endpoint_id": registered.json()["endpoint_id"],
        }
        problems = await fuzz(built.app, known, customer=customer)
    assert not problems, report(problems)
