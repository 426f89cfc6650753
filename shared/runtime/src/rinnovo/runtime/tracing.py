"""One trace per flow across the services: the W3C trace context travels with the events.

- When an aggregate is written, the context the write runs in is stored with each of its
  outbox events (in the record's headers) and with the aggregate (``trace``), so the relay's
  publish, which runs later in a loop of its own, continues the request's or the message's
  trace rather than starting one.
- The relay publishes each record in a producer span whose parent is that stored context,
  and sends the span's context in the record's Kafka headers; the consuming side handles
  each record in a consumer span continuing it (``consuming``), even within a batch, and
  each event its handling decides keeps that span's context (``Write.traces``).
- Work that continues a flow outside the request or message that began it (a notification
  delivered by a background loop, a payment that a bank statement pays) runs ``resumed``
  from the context stored with its aggregate, linked to whatever runs it now.

Only the trace context (``traceparent``, ``tracestate``) is stored and sent, never baggage,
which a caller could fill with anything. Tracing is off unless ``tracing_setup.configure``
found an exporter to send to; off, every function here is one global lookup.
"""

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, SpanKind, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from rinnovo.runtime.producer import Message

TRACE = "trace"
"""The field of an aggregate's document holding the trace context it was last written in
(with events) or created in."""

_PROPAGATOR = TraceContextTextMapPropagator()
_CONTEXT_HEADERS = frozenset(_PROPAGATOR.fields)
_tracer: Tracer | None = None


def enable(tracer: Tracer) -> None:
    global _tracer
    _tracer = tracer


def enabled() -> bool:
    return _tracer is not None


def context_headers() -> dict[str, str]:
    """The current trace context as W3C headers; empty when tracing is off or nothing is
    being traced."""
    if _tracer is None:
        return {}
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier


@contextlib.contextmanager
def resumed(stored: Mapping[str, str] | None, name: str, **attributes: str | int) -> Iterator[None]:
    """Run work that continues a flow as a span of that flow's trace: a child of the
    context ``stored`` with its aggregate, linked to the span running now (the request that
    brought the work) if that belongs to another trace. Nothing when tracing is off or the
    flow left no context."""
    if _tracer is None or not stored:
        yield
        return
    parent: Context | None = _PROPAGATOR.extract(stored)
    current = trace.get_current_span().get_span_context()
    flow = trace.get_current_span(parent).get_span_context()
    links: list[Link] = []
    if current.is_valid:
        if current.trace_id == flow.trace_id:
            parent = None  # already in the flow's trace: a child of what runs now
        else:
            links.append(Link(current))
    with _tracer.start_as_current_span(name, context=parent, links=links, attributes=attributes):
        yield


@contextlib.contextmanager
def consuming(topic: str, headers: Sequence[tuple[str, bytes]] | None) -> Iterator[None]:
    """Handle one consumed record in a consumer span whose parent is the context its
    producer sent in ``headers`` (a Kafka record's). Nothing when tracing is off."""
    if _tracer is None:
        yield
        return
    carrier = {k: v.decode("latin-1") for k, v in headers or () if k in _CONTEXT_HEADERS}
    with _tracer.start_as_current_span(
        f"{topic} process",
        context=_PROPAGATOR.extract(carrier),
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": "kafka",
            "messaging.operation": "process",
            "messaging.destination.name": topic,
        },
    ):
        yield


@contextlib.contextmanager
def publishing(messages: Sequence[Message]) -> Iterator[Sequence[Message]]:
    """The messages to send, each in a producer span whose parent is the context stored in
    its headers when its event was written, with the span's own context in its headers in
    place of that one. The spans end once the block does (after the acknowledgements)."""
    if _tracer is None:
        yield messages
        return
    spans = []
    traced = []
    for message in messages:
        headers = dict(message.headers or {})
        span = _tracer.start_span(
            f"{message.topic} publish",
            context=_PROPAGATOR.extract(headers),
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation": "publish",
                "messaging.destination.name": message.topic,
                "messaging.message.id": headers.get("ce_id", ""),
                "cloudevents.event_type": headers.get("ce_type", ""),
            },
        )
        _PROPAGATOR.inject(headers, context=trace.set_span_in_context(span))
        spans.append(span)
        traced.append(replace(message, headers=headers))
    try:
        yield traced
    except BaseException as exc:
        for span in spans:
            span.record_exception(exc)
            span.set_status(StatusCode.ERROR, type(exc).__name__)
        raise
    finally:
        for span in spans:
            span.end()
