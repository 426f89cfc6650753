"""Tracing's pieces without servers: when it is on, what an outbox record and an aggregate
keep of the trace, how the relay's publish and resumed work join it, what is sampled and
what leaves the process."""

import os
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Decision
from opentelemetry.trace import SpanKind, StatusCode

from rinnovo.contracts import Event
from rinnovo.contracts.payments import PaymentRegistered
from rinnovo.contracts.topics import PANEL_USAGE
from rinnovo.runtime import changes as changes_
from rinnovo.runtime import tracing, tracing_setup
from rinnovo.runtime.aggregates import guarded_update, new_document
from rinnovo.runtime.changes import Aggregates, Changes, Stored, Write
from rinnovo.runtime.events import Record
from rinnovo.runtime.producer import Message
from rinnovo.testing.aggregates import MemoryAggregates
from rinnovo.testing.batches import CODEC, Tally, batch_consumer, record, usage
from rinnovo.testing.events import payment_registered


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    """Tracing on, into memory; off again afterwards."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.enable(provider.get_tracer("test"))
    try:
        yield exporter
    finally:
        tracing._tracer = None


def tracer() -> trace.Tracer:
    assert tracing._tracer is not None
    return tracing._tracer


def an_event() -> PaymentRegistered:
    return payment_registered(datetime(2026, 5, 1, 9, 0, tzinfo=UTC))


def trace_id_in(headers: dict[str, str]) -> int:
    return int(headers["traceparent"].split("-")[1], 16)


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
    ],
)
def test_tracing_is_on_only_when_an_endpoint_is_set(environ: dict[str, str], wanted: bool) -> None:
    assert tracing_setup.wanted(environ) is wanted


def test_off_nothing_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """What makes tracing off cost nothing: no SDK, no middleware, no command listener."""
    for name in [n for n in os.environ if n.startswith("OTEL_")]:
        monkeypatch.delenv(name)
    app = FastAPI()
    middleware = list(app.user_middleware)

    assert tracing_setup.configure("orders") is False
    tracing_setup.instrument_app(app)

    assert tracing.enabled() is False
    assert not isinstance(trace.get_tracer_provider(), TracerProvider)  # the API's no-op
    assert not PymongoInstrumentor().is_instrumented_by_opentelemetry
    assert app.user_middleware == middleware


def test_off_nothing_is_stored_even_inside_a_span() -> None:
    provider = TracerProvider()
    with provider.get_tracer("other").start_as_current_span("someone else's"):
        record = Record.of(an_event())
        doc = new_document("p1", {"state": {}}, [an_event()])
    assert "traceparent" not in record.headers
    assert tracing.TRACE not in doc
    assert tracing.context_headers() == {}


def test_an_event_written_in_a_span_keeps_its_context_in_the_record_and_the_aggregate(
    exported: InMemorySpanExporter,
) -> None:
    with tracer().start_as_current_span("checkout") as span:
        record = Record.of(an_event())
        created = new_document("p1", {"state": {}}, [an_event()])
        _, update, _ = guarded_update("p1", 1, {"state": {}}, [an_event()])
        _, quiet, _ = guarded_update("p1", 1, {"state": {}})
    trace_id = span.get_span_context().trace_id
    assert trace_id_in(dict(record.headers)) == trace_id
    assert record.headers["ce_id"]  # the CloudEvents headers stay
    assert trace_id_in(created[tracing.TRACE]) == trace_id
    assert trace_id_in(update["$set"][tracing.TRACE]) == trace_id
    assert tracing.TRACE not in quiet["$set"]  # a change without events is no flow's step
    assert "traceparent" not in Record.of(an_event()).headers  # nothing traced now


def test_the_relay_publishes_each_record_in_the_trace_it_was_written_in(
    exported: InMemorySpanExporter,
) -> None:
    with tracer().start_as_current_span("checkout") as request:
        stored = Record.of(an_event())
    unrelated = Message("t.payments.payment.v1", b"{}", b"k", {"ce_id": "e2"})
    messages = [Message("t.payments.payment.v1", stored.value, b"p1", stored.headers), unrelated]
    with tracing.publishing(messages) as sent:
        # Open until the block ends (after the acknowledgements).
        assert [s.name for s in exported.get_finished_spans()] == ["checkout"]
    spans = exported.get_finished_spans()
    publishes = [s for s in spans if s.kind is SpanKind.PRODUCER]
    assert [s.name for s in publishes] == ["t.payments.payment.v1 publish"] * 2
    continued, started = publishes
    assert continued.context.trace_id == request.get_span_context().trace_id
    assert continued.parent is not None
    assert continued.parent.span_id == request.get_span_context().span_id
    assert started.parent is None  # written outside any trace: a trace of its own
    assert continued.attributes is not None
    assert continued.attributes["cloudevents.event_type"] == "payments.payment.registered"
    # What leaves carries the publish span's context, so the consumer continues from it.
    assert sent[0].headers is not None
    assert sent[0].headers["traceparent"].split("-")[2] == f"{continued.context.span_id:016x}"
    assert sent[0].headers["ce_id"] == stored.headers["ce_id"]


def test_a_failed_publish_ends_its_spans_as_errors(exported: InMemorySpanExporter) -> None:
    with (
        pytest.raises(ConnectionError),
        tracing.publishing([Message("t.x", b"{}", b"k", {})]),
    ):
        raise ConnectionError("broker away")
    [span] = exported.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR


def test_resumed_work_joins_the_flow_and_links_the_request_that_brought_it(
    exported: InMemorySpanExporter,
) -> None:
    with tracer().start_as_current_span("consume order placed") as flow:
        stored = tracing.context_headers()
    with (
        tracer().start_as_current_span("statement import") as request,
        tracing.resumed(stored, "register payment", source="statement"),
    ):
        inner = trace.get_current_span()
    resumed = next(s for s in exported.get_finished_spans() if s.name == "register payment")
    assert inner.get_span_context().span_id == resumed.context.span_id
    assert resumed.context.trace_id == flow.get_span_context().trace_id
    assert resumed.parent is not None
    assert resumed.parent.span_id == flow.get_span_context().span_id
    [link] = resumed.links
    assert link.context.span_id == request.get_span_context().span_id
    assert resumed.attributes == {"source": "statement"}


def test_resumed_in_its_own_trace_is_a_plain_child(exported: InMemorySpanExporter) -> None:
    with tracer().start_as_current_span("consume") as current:
        stored = tracing.context_headers()
        with tracing.resumed(stored, "deliver email"):
            pass
    resumed = next(s for s in exported.get_finished_spans() if s.name == "deliver email")
    assert resumed.parent is not None
    assert resumed.parent.span_id == current.get_span_context().span_id
    assert resumed.links == ()


def test_resumed_without_a_stored_context_or_tracing_adds_nothing(
    exported: InMemorySpanExporter,
) -> None:
    with tracing.resumed(None, "deliver email"):
        assert not trace.get_current_span().get_span_context().is_valid
    assert exported.get_finished_spans() == ()


def test_a_database_command_outside_any_trace_starts_none() -> None:
    sampler = tracing_setup.QuietRoots(ALWAYS_ON)
    dropped = sampler.should_sample(None, 1, "db.find", SpanKind.CLIENT)
    assert dropped.decision is Decision.DROP
    assert sampler.should_sample(None, 1, "GET /", SpanKind.SERVER).decision.is_sampled()
    provider = TracerProvider(sampler=sampler)
    with provider.get_tracer("t").start_as_current_span("GET /v1/services"):
        inside = sampler.should_sample(None, 1, "db.find", SpanKind.CLIENT)
    assert inside.decision.is_sampled()


class Kept(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def test_spans_leave_without_the_callers_address_secrets_or_personal_data() -> None:
    kept = Kept()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(tracing_setup.Redacting(kept)))
    attributes: dict[str, Any] = {
        "client.address": "203.0.113.7",
        "net.peer.ip": "203.0.113.7",
        "user_agent.original": "Mozilla/5.0",
        "http.request.header.authorization": "Bearer abc.def.ghi",
        "url.query": "search=rossi@example.it",
        "http.route": "/v1/services/{service_id}",
    }
    with (
        pytest.raises(ValueError, match="rossi"),
        provider.get_tracer("t").start_as_current_span("GET", attributes=attributes),
    ):
        raise ValueError("no customer rossi@example.it")
    [span] = kept.spans
    assert span.attributes == {
        "http.request.header.authorization": "[redacted]",
        "url.query": "search=[email]",
        "http.route": "/v1/services/{service_id}",
    }
    [event] = span.events
    assert event.attributes is not None
    assert "rossi@example.it" not in repr(dict(event.attributes))
    assert span.status.description is not None
    assert "rossi@example.it" not in span.status.description


async def test_each_record_of_a_batch_is_handled_in_its_producers_trace_and_written_with_it(
    exported: InMemorySpanExporter,
) -> None:
    """A batch writes the changes of many records at once, outside any of their spans: each
    aggregate still keeps the context of the record that changed it, and each event the
    context it was decided in."""
    store: MemoryAggregates[Tally] = MemoryAggregates(CODEC)
    for owner in ("s1", "s2"):
        await Changes(store).create(owner, Tally(owner))
    written: list[Write[Tally]] = []

    class Kept:
        def __getattr__(self, name: str) -> Any:
            return getattr(store, name)

        async def write(self, writes: Sequence[Write[Tally]]) -> list[Stored[Tally] | None]:
            written.extend(writes)
            return await store.write(writes)

    changes = Changes(cast(Aggregates[Tally], Kept()))

    async def announce(event: Event) -> None:
        await changes.change(
            event.aggregate_id, lambda s: changes_.Decision(s.value, [an_event()]), cause=event
        )

    consumer, _ = batch_consumer([(PANEL_USAGE, announce)])
    producers: dict[str, int] = {}
    records = []
    for offset, owner in enumerate(("s1", "s2")):
        with tracer().start_as_current_span(f"publish for {owner}") as span:
            headers = [(k, v.encode()) for k, v in tracing.context_headers().items()]
        producers[owner] = span.get_span_context().trace_id
        records.append(replace(record(PANEL_USAGE.name, usage(owner, 1), offset), headers=headers))

    await consumer.handle(records)

    by_id = {w.id: w for w in written}
    for owner, trace_id in producers.items():
        assert by_id[owner].trace is not None
        assert trace_id_in(dict(by_id[owner].trace)) == trace_id
        assert [trace_id_in(dict(t)) for t in by_id[owner].traces] == [trace_id]
    consumed = [s for s in exported.get_finished_spans() if s.kind is SpanKind.CONSUMER]
    assert sorted(s.context.trace_id for s in consumed) == sorted(producers.values())
