"""The accrual handler's storage, inside the projection's transaction: a constant number of
round trips per batch, never one per event, and no per-value parameter binding for the bulk rows
(they are COPYed, see adapters/bulk.py). Every statement is precompiled text; the reads skip
themselves when there is nothing to look up.

A batch of lines (all new, the usual case) costs: the lock, savepoint + COPY of the lines, the
volume positions (the deals when a line names one, partners when a rule needs a tier), savepoint
+ COPY of the accruals (and of skipped and pending rules when there are any), one statement for
the totals and volume positions (summed here), and the outbox COPY."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from channelstream_common.outbox import Outbox
from channelstream_common.topics import DEAL_REGISTERED, PARTNER_ENROLLED, REBATE_ACCRUED
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncConnection

from incentives.adapters import tables as t
from incentives.adapters.bulk import insert_new, move, staging
from incentives.domain.model import Awaited, Deal, Line, Partner, Rule
from incentives.domain.rules import VolumeKey
from incentives.service_layer.facts import (
    DealFact,
    LineFact,
    PartnerFact,
    PendingRule,
    Posting,
    SkippedRule,
    Trigger,
)

# pg_advisory_xact_lock key: accrual batches of every instance take turns
LOCK_KEY = 5_052_001
LOCK = text("select pg_advisory_xact_lock(:k)")


def _not_moved(key: str, table: Table) -> str:
    """Move the staged rows; returns the `key` of those that were already there."""
    return (
        f"with new as ({move(table, returning=key)})"
        f" select s.{key} from {staging(table)} s"
        f" where not exists (select 1 from new where new.{key} = s.{key})"
    )


# fallbacks when a COPY meets a row already there
MOVE_PARTNERS = text(move(t.partners, returning="partner_id"))
MOVE_DEALS = text(move(t.deals, returning="deal_id"))
MOVE_LINES = text(_not_moved("event_id", t.lines))
MOVE_ACCRUALS = text(_not_moved("accrual_id", t.accruals))
MOVE_PENDING = text(move(t.pending_rules))
MOVE_SKIPPED = text(move(t.skipped_rules))

LINE_HOLDERS = text(
    "select l.event_id, l.distributor_id, l.report_id, l.line_no from sell_through_lines l"
    " join unnest(cast(:d as text[]), cast(:r as text[]), cast(:n as bigint[]))"
    " as k(distributor_id, report_id, line_no) using (distributor_id, report_id, line_no)"
)
TAKE_PENDING = text(
    "with taken as (delete from pending_rules where (awaiting, awaiting_key) in"
    " (select * from unnest(cast(:kinds as text[]), cast(:keys as text[])))"
    " returning line_event_id, program_id, program_version, rule, awaiting, awaiting_key)"
    " select taken.*, l.* from taken join sell_through_lines l on l.event_id = taken.line_event_id"
)
PARTNERS = text("select * from partners where partner_id = any(cast(:ids as text[]))")
DEALS = text("select * from deals where deal_id = any(cast(:ids as text[]))")
VOLUMES = text(
    "select program_id, program_version, distributor_id, period, revenue from volume_positions"
    " join unnest(cast(:p as text[]), cast(:v as integer[]), cast(:d as text[]),"
    " cast(:q as text[])) as k(program_id, program_version, distributor_id, period)"
    " using (program_id, program_version, distributor_id, period)"
)
_TOTAL_KEY = "partner_id, program_id, program_version, period, reason"
_VOLUME_KEY = "program_id, program_version, distributor_id, period"
# the batch's sums per total, and the volume positions it moved: one statement (CTE)
SAVE = text(
    f"with totals as (insert into accrual_totals ({_TOTAL_KEY}, currency, amount, accruals)"
    " select * from unnest(cast(:tp as text[]), cast(:tg as text[]), cast(:tv as integer[]),"
    " cast(:tq as text[]), cast(:tr as text[]), cast(:tc as text[]), cast(:ta as numeric[]),"
    " cast(:tn as integer[]))"
    f" on conflict ({_TOTAL_KEY}) do update set amount = accrual_totals.amount + excluded.amount,"
    " accruals = accrual_totals.accruals + excluded.accruals)"
    f" insert into volume_positions ({_VOLUME_KEY}, revenue)"
    " select * from unnest(cast(:vp as text[]), cast(:vv as integer[]), cast(:vd as text[]),"
    " cast(:vq as text[]), cast(:vr as numeric[]))"
    f" on conflict ({_VOLUME_KEY}) do update set revenue = excluded.revenue"
)


def _trigger(row: Any, topic: str) -> Trigger:
    return Trigger(row.event_id, row.correlation_id, row.recorded_at, row.trace_id, topic)


def line_fact(row: Any) -> LineFact:
    line = Line(
        event_id=row.event_id,
        distributor_id=row.distributor_id,
        reseller_id=row.reseller_id,
        report_id=row.report_id,
        line_no=row.line_no,
        product_line=row.product_line,
        quantity=row.quantity,
        unit_price=row.unit_price,
        currency=row.currency,
        sold_on=row.sold_on,
        deal_id=row.deal_id,
    )
    return LineFact(line, _trigger(row, row.topic), (row.log_partition, row.log_offset))


# COPY rows, in the column order of adapters/tables.py


class _Stamps(dict[datetime, str]):
    """Timestamps as COPY text, each distinct one formatted once per batch: psycopg formats an
    aware datetime in about as long as all the other values of a row together, and a line's
    accruals (and often a whole report's lines) share the line's recorded_at."""

    def __missing__(self, at: datetime) -> str:
        text = self[at] = at.isoformat()
        return text


def _partner_row(f: PartnerFact, ts: _Stamps) -> tuple[Any, ...]:
    p, g = f.partner, f.trigger
    return (p.partner_id, p.partner_type, p.tier, g.event_id, g.correlation_id, ts[g.recorded_at],
            g.trace_id)  # fmt: skip


def _deal_row(f: DealFact, ts: _Stamps) -> tuple[Any, ...]:
    d, g = f.deal, f.trigger
    return (d.deal_id, d.partner_id, d.registered_on, d.protection_expires_on, g.event_id,
            g.correlation_id, ts[g.recorded_at], g.trace_id)  # fmt: skip


def _line_row(f: LineFact, ts: _Stamps) -> tuple[Any, ...]:
    x, g = f.line, f.trigger
    return (x.event_id, x.distributor_id, x.reseller_id, x.report_id, x.line_no, x.product_line,
            x.quantity, x.unit_price, x.currency, x.sold_on, x.period, x.deal_id, f.position[0],
            f.position[1], g.correlation_id, ts[g.recorded_at], g.trace_id, g.topic)  # fmt: skip


def _accrual_row(p: Posting, ts: _Stamps) -> tuple[Any, ...]:
    a, g = p.accrual, p.trigger
    return (a.accrual_id, a.partner_id, a.program_id, a.program_version, a.currency, a.period,
            a.reason.value, a.basis_amount, a.rate, a.amount, a.line_event_id,
            p.line.position[0], p.line.position[1], a.deal_id, a.sold_on, a.running_before,
            a.running_after, g.event_id, g.topic, g.correlation_id, ts[g.recorded_at])  # fmt: skip


def _pending_row(p: PendingRule) -> tuple[Any, ...]:
    return (p.line_event_id, p.program_id, p.program_version, p.rule.value, p.awaiting.value,
            p.key)  # fmt: skip


def _skipped_row(s: SkippedRule) -> tuple[Any, ...]:
    return (s.line_event_id, s.program_id, s.program_version, s.rule, s.code, s.detail)


class SqlRepository:
    def __init__(self, conn: AsyncConnection, outbox: Outbox) -> None:
        self.conn = conn
        self.outbox = outbox
        self.stamps = _Stamps()

    async def lock(self) -> None:
        await self.conn.execute(LOCK, {"k": LOCK_KEY})

    async def add_partners(self, facts: list[PartnerFact]) -> list[PartnerFact]:
        rows = [_partner_row(f, self.stamps) for f in facts]
        moved = await insert_new(self.conn, t.partners, rows, MOVE_PARTNERS)
        if moved is None:
            return facts
        new = {r[0] for r in moved}
        return [f for f in facts if f.partner.partner_id in new]

    async def add_deals(self, facts: list[DealFact]) -> list[DealFact]:
        moved = await insert_new(
            self.conn, t.deals, [_deal_row(f, self.stamps) for f in facts], MOVE_DEALS
        )
        if moved is None:
            return facts
        new = {r[0] for r in moved}
        return [f for f in facts if f.deal.deal_id in new]

    async def add_lines(
        self, facts: list[LineFact]
    ) -> tuple[list[LineFact], list[tuple[LineFact, str]]]:
        moved = await insert_new(
            self.conn, t.lines, [_line_row(f, self.stamps) for f in facts], MOVE_LINES
        )
        known = {r[0] for r in moved} if moved is not None else set()
        if not known:
            return facts, []
        rest = [f for f in facts if f.line.event_id in known]
        found = await self.conn.execute(
            LINE_HOLDERS,
            {
                "d": [f.line.distributor_id for f in rest],
                "r": [f.line.report_id for f in rest],
                "n": [f.line.line_no for f in rest],
            },
        )
        holder = {(r.distributor_id, r.report_id, r.line_no): r.event_id for r in found}
        duplicates = [
            (f, first)
            for f in rest
            if (first := holder.get((f.line.distributor_id, f.line.report_id, f.line.line_no)))
            not in (None, f.line.event_id)
        ]
        return [f for f in facts if f.line.event_id not in known], duplicates

    async def take_pending(
        self, awaited: list[tuple[Awaited, str]]
    ) -> list[tuple[PendingRule, LineFact]]:
        taken = await self.conn.execute(
            TAKE_PENDING, {"kinds": [k.value for k, _ in awaited], "keys": [v for _, v in awaited]}
        )
        return [
            (
                PendingRule(
                    r.line_event_id, r.program_id, r.program_version, Rule(r.rule),
                    Awaited(r.awaiting), r.awaiting_key,
                ),
                line_fact(r),
            )
            for r in taken
        ]  # fmt: skip

    async def partners(self, ids: set[str]) -> dict[str, PartnerFact]:
        if not ids:
            return {}
        rows = await self.conn.execute(PARTNERS, {"ids": sorted(ids)})
        return {
            r.partner_id: PartnerFact(
                Partner(r.partner_id, r.partner_type, r.tier),
                _trigger(r, PARTNER_ENROLLED.name),
            )
            for r in rows
        }

    async def deals(self, ids: set[str]) -> dict[str, DealFact]:
        if not ids:
            return {}
        rows = await self.conn.execute(DEALS, {"ids": sorted(ids)})
        return {
            r.deal_id: DealFact(
                Deal(r.deal_id, r.partner_id, r.registered_on, r.protection_expires_on),
                _trigger(r, DEAL_REGISTERED.name),
            )
            for r in rows
        }

    async def volumes(self, keys: set[VolumeKey]) -> dict[VolumeKey, Decimal]:
        if not keys:
            return {}
        p, v, d, q = zip(*sorted(keys), strict=True)
        rows = await self.conn.execute(
            VOLUMES, {"p": list(p), "v": list(v), "d": list(d), "q": list(q)}
        )
        return {
            (r.program_id, r.program_version, r.distributor_id, r.period): r.revenue for r in rows
        }

    async def save(
        self,
        postings: list[Posting],
        pending: list[PendingRule],
        skipped: list[SkippedRule],
        volumes: dict[VolumeKey, Decimal],
    ) -> list[Posting]:
        rows = [_accrual_row(p, self.stamps) for p in postings]
        moved = await insert_new(self.conn, t.accruals, rows, MOVE_ACCRUALS)
        known = {r[0] for r in moved} if moved is not None else set()
        saved = [p for p in postings if p.accrual.accrual_id not in known] if known else postings
        rows = [_pending_row(p) for p in pending]
        await insert_new(self.conn, t.pending_rules, rows, MOVE_PENDING)
        rows = [_skipped_row(s) for s in skipped]
        await insert_new(self.conn, t.skipped_rules, rows, MOVE_SKIPPED)
        totals = _totals(saved)
        if totals or volumes:
            names = ("tp", "tg", "tv", "tq", "tr", "tc", "ta", "tn", "vp", "vv", "vd", "vq", "vr")
            volume_rows = [(*k, v) for k, v in sorted(volumes.items())]
            arrays = _columns(totals, 8) + _columns(volume_rows, 5)
            await self.conn.execute(SAVE, dict(zip(names, arrays, strict=True)))
        return saved

    async def stage(self, events: Iterable[dict[str, Any]]) -> None:
        await self.outbox.add(self.conn, ((REBATE_ACCRUED, e) for e in events))


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows to one list per column (array parameters)."""
    return [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


def _totals(saved: list[Posting]) -> list[tuple[Any, ...]]:
    """The batch's additions to accrual_totals: (partner, program, version, period, reason,
    currency, amount, accruals), in key order."""
    sums: dict[tuple[str, str, int, str, str], list[Any]] = defaultdict(
        lambda: [None, Decimal(0), 0]
    )
    for p in saved:
        a = p.accrual
        entry = sums[(a.partner_id, a.program_id, a.program_version, a.period, a.reason.value)]
        entry[0], entry[1], entry[2] = a.currency, entry[1] + a.amount, entry[2] + 1
    return [(*k, *v) for k, v in sorted(sums.items())]
