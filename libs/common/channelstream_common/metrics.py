"""Prometheus metrics every service exposes on /metrics."""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram

from channelstream_common.events import Envelope

EVENTS_PROCESSED = Counter(
    "channelstream_events_processed_total", "Events applied or examined", ["service", "topic"]
)
EVENTS_FAILED = Counter(
    "channelstream_events_failed_total", "Events dead-lettered", ["service", "topic"]
)
HANDLER_LATENCY = Histogram(
    "channelstream_handler_seconds",
    "Time to apply one batch",
    ["service"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CONSUMER_LAG = Gauge(
    "channelstream_consumer_lag", "Records behind the log end", ["service", "topic", "partition"]
)
LAST_APPLIED = Gauge(
    "channelstream_last_applied_event_timestamp_seconds",
    "Log time of the last applied event",
    ["service"],
)
FRESHNESS = Gauge(
    "channelstream_projection_freshness_seconds",
    "now - log time of the last applied event",
    ["service"],
)
DB_UP = Gauge("channelstream_database_up", "1 while the database answers", ["service"])


def observe_applied(service: str, env: Envelope) -> None:
    LAST_APPLIED.labels(service).set(env.timestamp_ms / 1000)
    FRESHNESS.labels(service).set(max(0.0, time.time() - env.timestamp_ms / 1000))
