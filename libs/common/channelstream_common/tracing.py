"""Carrying one trace across services: from a record's `traceparent` header to the spans that
apply it, and on to the events it causes (staged in the outbox, published later by the relay)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.context import Context

from channelstream_common.events import Envelope

tracer = trace.get_tracer("channelstream")
# event_id -> context of the span that applied it, while a batch is being handled
_CAUSES: ContextVar[Mapping[str, Context] | None] = ContextVar("channelstream_causes", default=None)


def extract(headers: Iterable[tuple[str, bytes]]) -> Context:
    carrier = {k: v.decode(errors="replace") for k, v in headers if k == "traceparent"}
    return propagate.extract(carrier)


def traceparent(metadata: Mapping[str, Any]) -> str | None:
    """The traceparent for an event: its cause's span if it has one being applied, else the
    current span (an HTTP request, say)."""
    ctx = (_CAUSES.get() or {}).get(str(metadata.get("causation_id") or ""))
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=ctx)
    return carrier.get("traceparent")


@contextmanager
def applying(service: str, events: Sequence[Envelope]) -> Iterator[None]:
    """One short span per applied event, child of the trace the event arrived with."""
    causes: dict[str, Context] = {}
    for env in events:
        with tracer.start_as_current_span(
            f"{service} apply {env.topic}",
            context=extract(env.headers),
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
