"""The projection handler: events of every topic in, rows of analytics' fact tables out."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from channelstream_common.events import Envelope
from channelstream_common.projection import Handler
from channelstream_common.topics import (
    DEAL_REGISTERED,
    DEAL_REJECTED,
    PARTNER_ENROLLED,
    REBATE_ACCRUED,
    SELL_IN_RECORDED,
    SELL_THROUGH_REJECTED,
    SELL_THROUGH_REPORTED,
    Topic,
)
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from analytics.adapters import tables
from analytics.adapters.repository import Row
from analytics.domain.quarters import Quarter
from analytics.service_layer.projection import record

PROJECTION = "facts"


def _event_id(value: dict[str, Any]) -> str:
    return str(value["metadata"]["event_id"])


def _occurred_on(value: dict[str, Any]) -> date:
    occurred: datetime = value["metadata"]["occurred_at"]
    return occurred.astimezone(UTC).date()


def partner_row(v: dict[str, Any]) -> Row:
    return {
        "partner_id": v["partner_id"],
        "legal_name": v["legal_name"],
        "partner_type": v["partner_type"],
        "tier": v["tier"],
        "parent_distributor_id": v.get("parent_distributor_id"),
        "territories": list(v["territories"]),
        "enrolled_on": v["enrolled_on"],
        "event_id": _event_id(v),
    }


def deal_row(v: dict[str, Any]) -> Row:
    return {
        "deal_id": v["deal_id"],
        "partner_id": v["partner_id"],
        "customer_key": v["customer_key"],
        "customer_name": v["customer"]["name"],
        "customer_country": v["customer"]["country"],
        "estimated_value": v["estimated_value"],
        "currency": v["currency"],
        "expected_close_on": v["expected_close_on"],
        "registered_on": v["registered_on"],
        "protection_expires_on": v["protection_expires_on"],
        "event_id": _event_id(v),
    }


def deal_rejection_row(v: dict[str, Any]) -> Row:
    return {
        "event_id": _event_id(v),
        "deal_id": v["deal_id"],
        "partner_id": v["partner_id"],
        "reason": v["reason"],
        "detail": v["detail"],
        "conflicting_deal_id": v.get("conflicting_deal_id"),
        "registered_on": v.get("registered_on"),
        "occurred_on": _occurred_on(v),
    }


def copied(table: Table, value: dict[str, Any], **derived: Any) -> Row:
    """The event fields named like the table's columns, plus the derived ones."""
    row = {c.name: value.get(c.name) for c in table.c if c.name not in derived}
    return {**row, **derived}


def line_row(v: dict[str, Any]) -> Row:
    return copied(tables.sell_through_lines, v, event_id=_event_id(v))


def line_rejection_row(v: dict[str, Any]) -> Row:
    return copied(
        tables.sell_through_rejections, v, event_id=_event_id(v), occurred_on=_occurred_on(v)
    )


def shipment_row(v: dict[str, Any]) -> Row:
    return copied(tables.sell_in_shipments, v, event_id=_event_id(v))


def accrual_row(v: dict[str, Any]) -> Row:
    """Refuses (raises) an accrual whose period is no quarter: the event is dead-lettered."""
    period = str(Quarter.parse(v["period"]))
    return copied(tables.rebate_accruals, v, period=period, event_id=_event_id(v))


ROWS: dict[Topic, tuple[Table, Callable[[dict[str, Any]], Row]]] = {
    PARTNER_ENROLLED: (tables.partners, partner_row),
    DEAL_REGISTERED: (tables.deals, deal_row),
    DEAL_REJECTED: (tables.deal_rejections, deal_rejection_row),
    SELL_THROUGH_REPORTED: (tables.sell_through_lines, line_row),
    SELL_THROUGH_REJECTED: (tables.sell_through_rejections, line_rejection_row),
    SELL_IN_RECORDED: (tables.sell_in_shipments, shipment_row),
    REBATE_ACCRUED: (tables.rebate_accruals, accrual_row),
}
CONSUMED: tuple[Topic, ...] = tuple(ROWS)


def facts_handler(prefix: str) -> Handler:
    """The handler for topics named with `prefix`; the same one replays use."""
    by_name = {t.full_name(prefix): t for t in CONSUMED}

    async def apply_facts(conn: AsyncConnection, events: Sequence[Envelope]) -> None:
        facts: dict[Table, list[Row]] = defaultdict(list)
        for env in sorted(events, key=lambda e: (e.topic, e.partition, e.offset)):
            table, to_row = ROWS[by_name[env.topic]]
            facts[table].append(to_row(env.value))
        await record(conn, facts)

    return apply_facts
