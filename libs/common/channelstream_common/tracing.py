"""Carrying one trace across services: from a record's `traceparent` header to the spans that
apply it, and on to the events it causes (staged in the outbox, published later by the relay)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.context import Context

from channelstream_common import telemetry
from channelstream_common.events import Envelope

tracer = trace.get_tracer("channelstream")
# event_id -> what caused it, while a batch is being handled: the context of the span that applied
# it, or (tracing off, or the trace not sampled) the traceparent it arrived with, passed on as is
_CAUSES: ContextVar[Mapping[str, Context | str] | None] = ContextVar(
    "channelstream_causes", default=None
)


def header(headers: Iterable[tuple[str, bytes]]) -> str | None:
    for k, v in headers:
        if k == "traceparent":
            return v.decode(errors="replace")
    return None


def sampled(traceparent_value: str) -> bool:
    return traceparent_value.endswith("-01")


def traceparent(metadata: Mapping[str, Any]) -> str | None:
    """The traceparent for an event: its cause's span if it has one being applied, else the
    current span (an HTTP request, say)."""
    cause = (_CAUSES.get() or {}).get(str(metadata.get("causation_id") or ""))
    if isinstance(cause, str):
        return cause
    if cause is None and not telemetry.tracing_configured():
        return None  # no span anywhere: nothing to inject
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=cause)
    return carrier.get("traceparent")


@contextmanager
def applying(service: str, events: Sequence[Envelope]) -> Iterator[None]:
    """One short span per applied event whose trace is sampled, child of the trace the event
    arrived with. Without tracing the traceparents are only passed on (no span is built: at tens
    of thousands of events a second, per-event spans cost more than the projections)."""
    recording = telemetry.tracing_configured()
    causes: dict[str, Context | str] = {}
    for env in events:
        parent = header(env.headers)
        if not recording or (parent and not sampled(parent)):
            if parent:
                causes[env.event_id] = parent
            continue
        with tracer.start_as_current_span(
            f"{service} apply {env.topic}",
            context=propagate.extract({"traceparent": parent} if parent else {}),
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "channelstream.service": service,
                "messaging.kafka.offset": env.offset,
                "channelstream.event_id": env.event_id,
            },
        ) as span:
            causes[env.event_id] = trace.set_span_in_context(span)
    token = _CAUSES.set(causes)
    try:
        yield
    finally:
        _CAUSES.reset(token)


@contextmanager
def continuing(traceparent_value: str | None) -> Iterator[None]:
    """Make `traceparent_value` the current context (the outbox relay, sending a staged event)."""
    if not traceparent_value:
        yield
        return
    token = context.attach(propagate.extract({"traceparent": traceparent_value}))
    try:
        yield
    finally:
        context.detach(token)
