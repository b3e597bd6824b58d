"""The projection handler: events of every topic in, rows of analytics' fact tables out."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from operator import attrgetter, itemgetter
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
from analytics.domain.quarters import Quarter
from analytics.service_layer.projection import record

PROJECTION = "facts"

# A row is a tuple in the order of its table's columns (`columns(table)`): what COPY sends.
Row = tuple[Any, ...]


def columns(table: Table) -> tuple[str, ...]:
    return tuple(c.name for c in table.c)


def _fields(table: Table, first: str, last: str) -> Callable[[dict[str, Any]], Row]:
    """The event's fields named like the table's columns `first`..`last` (in column order);
    a field an older writer schema lacked is None."""
    names = columns(table)
    names = names[names.index(first) : names.index(last) + 1]
    assert len(names) > 1, "itemgetter of one name gives no tuple"
    get = itemgetter(*names)

    def fields(value: dict[str, Any]) -> Row:
        try:
            found: Row = get(value)
        except KeyError:
            return tuple(map(value.get, names))
        return found

    return fields


def _event_id(value: dict[str, Any]) -> str:
    return str(value["metadata"]["event_id"])


def _occurred_on(value: dict[str, Any]) -> date:
    occurred: datetime = value["metadata"]["occurred_at"]
    return occurred.astimezone(UTC).date()


def partner_row(v: dict[str, Any]) -> Row:
    return (
        v["partner_id"],
        v["legal_name"],
        v["partner_type"],
        v["tier"],
        v.get("parent_distributor_id"),
        list(v["territories"]),
        v["enrolled_on"],
        _event_id(v),
    )


def deal_row(v: dict[str, Any]) -> Row:
    return (
        v["deal_id"],
        v["partner_id"],
        v["customer_key"],
        v["customer"]["name"],
        v["customer"]["country"],
        v["estimated_value"],
        v["currency"],
        v["expected_close_on"],
        v["registered_on"],
        v["protection_expires_on"],
        _event_id(v),
    )


def deal_rejection_row(v: dict[str, Any]) -> Row:
    return (
        _event_id(v),
        v["deal_id"],
        v["partner_id"],
        v["reason"],
        v["detail"],
        v.get("conflicting_deal_id"),
        v.get("registered_on"),
        _occurred_on(v),
    )


_line_fields = _fields(tables.sell_through_lines, "report_id", "ingestion_path")
_line_rejection_fields = _fields(tables.sell_through_rejections, "report_id", "ingestion_path")
_shipment_fields = _fields(tables.sell_in_shipments, "shipment_id", "ingestion_path")
_accrual_head = _fields(tables.rebate_accruals, "accrual_id", "program_version")
_accrual_tail = _fields(tables.rebate_accruals, "reason", "currency")


def line_row(v: dict[str, Any]) -> Row:
    return (*_line_fields(v), _event_id(v))


def line_rejection_row(v: dict[str, Any]) -> Row:
    return (_event_id(v), *_line_rejection_fields(v), _occurred_on(v))


def shipment_row(v: dict[str, Any]) -> Row:
    return (*_shipment_fields(v), _event_id(v))


@functools.lru_cache(maxsize=4096)
def canonical_period(text: str) -> str:
    """Raises InvalidQuarter for a period that is no quarter."""
    return str(Quarter.parse(text))


def accrual_row(v: dict[str, Any]) -> Row:
    """Refuses (raises) an accrual whose period is no quarter: the event is dead-lettered."""
    period = canonical_period(v["period"])
    return (*_accrual_head(v), period, *_accrual_tail(v), _event_id(v))


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

_position = attrgetter("topic", "partition", "offset")


def facts_handler(prefix: str) -> Handler:
    """The handler for topics named with `prefix`; the same one replays use."""
    by_name = {t.full_name(prefix): ROWS[t] for t in CONSUMED}

    async def apply_facts(conn: AsyncConnection, events: Sequence[Envelope]) -> None:
        facts: dict[Table, list[Row]] = defaultdict(list)
        for env in sorted(events, key=_position):
            table, to_row = by_name[env.topic]
            facts[table].append(to_row(env.value))
        await record(conn, facts)

    return apply_facts
