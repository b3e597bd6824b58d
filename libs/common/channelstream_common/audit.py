"""Audit provenance from the topics alone: accrual → rule and program version → the event that
caused it → the raw report line, its report and upload (who, when, which path) → trace id.

Nothing here reads a service database or a side log; every link is event metadata
(`causation_id`, `correlation_id`) or a field of an event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from channelstream_common.events import Envelope
from channelstream_common.serde import AvroSerde, DecodeError
from channelstream_common.topics import (
    DEAL_REGISTERED,
    REBATE_ACCRUED,
    SELL_THROUGH_REPORTED,
    SELL_THROUGH_SUBMITTED,
    Topic,
)


async def read_topic(
    bootstrap: str,
    serde: AvroSerde,
    topic: Topic,
    *,
    security: Mapping[str, Any] | None = None,
) -> list[Envelope]:
    """Every committed record of a topic, decoded, in partition-then-offset order.
    `security`: kafka_security.client_kwargs(settings)."""
    name = topic.full_name(serde.prefix)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
        max_partition_fetch_bytes=8 * 1024 * 1024,
        **(security or {}),
    )
    await consumer.start()
    out: list[Envelope] = []
    try:
        await consumer.topics()
        parts = [TopicPartition(name, p) for p in sorted(consumer.partitions_for_topic(name) or ())]
        if not parts:
            return out
        end = await consumer.end_offsets(parts)
        remaining = {tp for tp in parts if end[tp] > 0}
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        while remaining:
            fetched = await consumer.getmany(*remaining, timeout_ms=1000, max_records=10000)
            for tp, records in fetched.items():
                for r in records:
                    if r.offset >= end[tp]:
                        continue
                    try:
                        value = await serde.decode(topic, r.value)
                    except DecodeError:
                        continue
                    out.append(
                        Envelope(
                            r.topic,
                            r.partition,
                            r.offset,
                            r.key,
                            value,
                            r.timestamp,
                            tuple(r.headers or ()),
                            r.value,
                        )
                    )
            for tp in list(remaining):
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    out.sort(key=lambda e: (e.partition, e.offset))
    return out


@dataclass
class History:
    """The events an audit needs, indexed."""

    accruals: list[Envelope] = field(default_factory=list)
    by_event_id: dict[str, Envelope] = field(default_factory=dict)
    lines: list[Envelope] = field(default_factory=list)

    @classmethod
    async def load(
        cls, bootstrap: str, serde: AvroSerde, *, security: Mapping[str, Any] | None = None
    ) -> History:
        async def read(topic: Topic) -> list[Envelope]:
            return await read_topic(bootstrap, serde, topic, security=security)

        h = cls()
        h.accruals = await read(REBATE_ACCRUED)
        h.lines = await read(SELL_THROUGH_REPORTED)
        others = [*await read(DEAL_REGISTERED), *await read(SELL_THROUGH_SUBMITTED)]
        for env in [*h.accruals, *h.lines, *others]:
            h.by_event_id.setdefault(env.event_id, env)
        return h


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _meta(env: Envelope) -> dict[str, Any]:
    m = env.metadata
    return {
        "event_id": m["event_id"],
        "topic": env.topic,
        "partition": env.partition,
        "offset": env.offset,
        "producer": m["producer"],
        "recorded_at": m["recorded_at"],
        "correlation_id": m["correlation_id"],
        "causation_id": m["causation_id"],
        "trace_id": m.get("trace_id"),
    }


def _line(env: Envelope, history: History) -> dict[str, Any]:
    v = env.value
    link: dict[str, Any] = {
        "event": "SellThroughReported",
        **_meta(env),
        "report_id": v["report_id"],
        "line_no": v["line_no"],
        "distributor_id": v["distributor_id"],
        "reseller_id": v["reseller_id"],
        "sku": v["sku"],
        "quantity": v["quantity"],
        "unit_price": v["unit_price"],
        "sold_on": v["sold_on"],
        "deal_id": v.get("deal_id"),
        "raw_line": v["raw_line"],
        "upload": {
            "upload_id": v.get("upload_id"),
            "submitted_by": v.get("submitted_by"),
            "ingestion_path": v.get("ingestion_path"),
            "received_at": env.metadata["recorded_at"],
        },
    }
    intake = history.by_event_id.get(env.metadata["causation_id"] or "")
    if intake is not None:
        link["intake"] = {"event": "SellThroughLineSubmitted", **_meta(intake)}
    return link


def explain_accrual(accrual: Envelope, history: History) -> dict[str, Any]:
    a = accrual.value
    chain: dict[str, Any] = {
        "accrual_id": a["accrual_id"],
        "partner_id": a["partner_id"],
        "period": a["period"],
        "reason": a["reason"],
        "program": f"{a['program_id']} v{a['program_version']}",
        "basis_amount": a["basis_amount"],
        "rate": a["rate"],
        "amount": a["amount"],
        "accrual_event": _meta(accrual),
        "source": None,
        "cause": None,
        "contributing_lines": [],
    }
    source = history.by_event_id.get(a["source_event_id"])
    if source is not None and "report_id" in source.value:
        chain["source"] = _line(source, history)
    elif source is not None:
        chain["source"] = {
            "event": "DealRegistered",
            **_meta(source),
            "deal_id": source.value["deal_id"],
        }
    cause_id = accrual.metadata["causation_id"]
    if cause_id and cause_id != a["source_event_id"]:
        cause = history.by_event_id.get(cause_id)
        if cause is not None:
            chain["cause"] = {
                "event": "DealRegistered"
                if "deal_id" in cause.value and "customer" in cause.value
                else "event",
                **_meta(cause),
            }
    if a["reason"] == "TIER_TRUE_UP" and source is not None and "report_id" in source.value:
        chain["contributing_lines"] = [_line(e, history) for e in contributing(source, history)]
    return chain


def contributing(line: Envelope, history: History) -> list[Envelope]:
    """Every line of the distributor in the quarter up to and including `line`, in log order:
    the cumulative revenue a retroactive true-up is computed from."""
    v = line.value
    quarter = quarter_of(v["sold_on"])
    seen: set[str] = set()
    out = []
    for e in history.lines:
        if (
            e.value["distributor_id"] == v["distributor_id"]
            and quarter_of(e.value["sold_on"]) == quarter
            and (e.partition, e.offset) <= (line.partition, line.offset)
            and e.event_id not in seen
        ):
            seen.add(e.event_id)
            out.append(e)
    return out


def find_accrual(accrual_id: str, history: History) -> Envelope | None:
    return next((e for e in history.accruals if e.value["accrual_id"] == accrual_id), None)


def statement(partner_id: str, period: str, history: History) -> dict[str, Any]:
    chosen: Iterable[Envelope] = (
        e
        for e in history.accruals
        if e.value["partner_id"] == partner_id and e.value["period"] == period
    )
    seen: set[str] = set()
    chains = []
    for env in chosen:
        if env.value["accrual_id"] in seen:  # the outbox relay delivers at least once
            continue
        seen.add(env.value["accrual_id"])
        chains.append(explain_accrual(env, history))
    total = sum((Decimal(c["amount"]) for c in chains), Decimal("0.00"))
    return {"partner_id": partner_id, "period": period, "total": total, "accruals": chains}
