"""Turning tracing on: OpenTelemetry's SDK, its OTLP exporter and the ecosystem's own
instrumentations (FastAPI, PyMongo), configured by the
standard ``OTEL_*`` variables.

Tracing is on only when an OTLP endpoint is set (``OTEL_EXPORTER_OTLP_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``), and not disabled (``OTEL_SDK_DISABLED=true``,
``OTEL_TRACES_EXPORTER=none``). Otherwise nothing is installed: no middleware, no command
listener, no span. Sampling follows ``OTEL_TRACES_SAMPLER`` (every trace by default;
``parentbased_traceidratio`` with ``OTEL_TRACES_SAMPLER_ARG`` in production), and the
exporter its own variables (headers, timeout, compression).
"""

import os
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_NAMESPACE, Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, Status
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from rinnovo.runtime import tracing
from rinnovo.runtime.redaction import REDACTED, is_sensitive, scrub

NOT_TRACED_URLS = "/health/live,/health/ready,/metrics"
"""Probes and scrapes, every few seconds: no trace each."""

DROPPED_ATTRIBUTES = frozenset(
    {
        "client.address",
        "client.port",
        "net.peer.ip",
        "net.peer.port",
        "net.sock.peer.addr",
        "net.sock.peer.port",
        "http.client_ip",
        "http.user_agent",
        "user_agent.original",
    }
)
"""Who called: an address and a browser are personal data, and no trace needs them."""

_provider: TracerProvider | None = None


def wanted(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the standard variables ask for traces to be exported."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return False
    return bool(
        environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )


def configure(service: str) -> bool:
    """Turn tracing on for this process if it is wanted; True if it is on. Once per process
    (the first service composed names it); the instrumentations apply to what is built
    after."""
    global _provider
    if _provider is not None:
        return True
    if not wanted():
        return False
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: f"rinnovo-{service}", SERVICE_NAMESPACE: "rinnovo"})
    )
    provider.sampler = QuietRoots(provider.sampler)  # the one OTEL_TRACES_SAMPLER names
    provider.add_span_processor(BatchSpanProcessor(Redacting(OTLPSpanExporter())))
    trace.set_tracer_provider(provider)
    PymongoInstrumentor().instrument(tracer_provider=provider)
    tracing.enable(provider.get_tracer("rinnovo.runtime"))
    _provider = provider
    return True


def instrument_app(app: FastAPI) -> None:
    """A server span per request (none for probes and scrapes), when tracing is on."""
    if _provider is not None:
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=_provider,
            excluded_urls=NOT_TRACED_URLS,
            exclude_spans=["receive", "send"],
        )


def flush() -> None:
    """Export what is buffered (a process about to stop)."""
    if _provider is not None:
        _provider.force_flush()


class QuietRoots(Sampler):
    """A database command outside any request, message or flow starts no trace: the relay's
    polls and the schedulers' sweeps would otherwise make several traces a second. The rest
    is decided by the configured sampler."""

    def __init__(self, configured: Sampler) -> None:
        self._configured = configured

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        parent = trace.get_current_span(parent_context).get_span_context()
        if kind is SpanKind.CLIENT and not parent.is_valid:
            return SamplingResult(Decision.DROP)
        return self._configured.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"QuietRoots{{{self._configured.get_description()}}}"


class Redacting(SpanExporter):
    """Spans leave as the logs do (``redaction.py``): without the caller's address or
    browser, with fields named for secrets or personal data replaced, and e-mail addresses,
    tokens, keys and IBANs masked in every text (exception messages included)."""

    def __init__(self, exporter: SpanExporter) -> None:
        self._exporter = exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._exporter.export([_redacted(span) for span in spans])

    def shutdown(self) -> None:
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._exporter.force_flush(timeout_millis)


def _clean(attributes: Attributes) -> dict[str, Any]:
    return {
        key: REDACTED if is_sensitive(key) else scrub(value)
        for key, value in (attributes or {}).items()
        if key not in DROPPED_ATTRIBUTES
    }


def _redacted(span: ReadableSpan) -> ReadableSpan:
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=_clean(span.attributes),
        events=[Event(e.name, _clean(e.attributes), e.timestamp) for e in span.events],
        links=span.links,
        kind=span.kind,
        status=Status(span.status.status_code, scrub(span.status.description)),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )
