"""Consumer-side figures each service already exposes on /metrics: batches applied, events,
time in handlers. Average batch size is what decides the per-event cost of a projection."""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families


async def consumer_stats(client: httpx.AsyncClient, base: str) -> dict[str, Any]:
    response = await client.get(f"{base}/metrics", timeout=30)
    response.raise_for_status()
    batches = seconds = events = 0.0
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "channelstream_handler_seconds_count":
                batches += sample.value
            elif sample.name == "channelstream_handler_seconds_sum":
                seconds += sample.value
            elif sample.name == "channelstream_events_processed_total":
                events += sample.value
    return {
        "batches": int(batches),
        "events": int(events),
        "handler_seconds": round(seconds, 3),
        "events_per_batch": round(events / batches, 1) if batches else None,
        "ms_per_batch": round(1000 * seconds / batches, 2) if batches else None,
    }
