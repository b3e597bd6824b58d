"""The accrual handler's storage, inside the projection's transaction: a constant number of
round trips per batch (multi-row inserts / executemany), never one per event."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from channelstream_common.outbox import Outbox
from channelstream_common.topics import DEAL_REGISTERED, PARTNER_ENROLLED, REBATE_ACCRUED
from sqlalchemy import delete, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from incentives.adapters import tables as t
from incentives.adapters.bulk import insert_rows
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


def _provenance(trigger: Trigger) -> dict[str, Any]:
    return {
        "event_id": trigger.event_id,
        "correlation_id": trigger.correlation_id,
        "recorded_at": trigger.recorded_at,
        "trace_id": trigger.trace_id,
    }


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


class SqlRepository:
    def __init__(self, conn: AsyncConnection, outbox: Outbox) -> None:
        self.conn = conn
        self.outbox = outbox

    async def lock(self) -> None:
        await self.conn.execute(text("select pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})

    async def add_partners(self, facts: list[PartnerFact]) -> list[PartnerFact]:
        if not facts:
            return []
        rows = [
            {
                "partner_id": f.partner.partner_id,
                "partner_type": f.partner.partner_type,
                "tier": f.partner.tier,
                **_provenance(f.trigger),
            }
            for f in facts
        ]
        new = await insert_rows(self.conn, t.partners, rows, returning="partner_id")
        return [f for f in facts if f.partner.partner_id in new]

    async def add_deals(self, facts: list[DealFact]) -> list[DealFact]:
        if not facts:
            return []
        rows = [
            {
                "deal_id": f.deal.deal_id,
                "partner_id": f.deal.partner_id,
                "registered_on": f.deal.registered_on,
                "protection_expires_on": f.deal.protection_expires_on,
                **_provenance(f.trigger),
            }
            for f in facts
        ]
        new = await insert_rows(self.conn, t.deals, rows, returning="deal_id")
        return [f for f in facts if f.deal.deal_id in new]

    async def add_lines(
        self, facts: list[LineFact]
    ) -> tuple[list[LineFact], list[tuple[LineFact, str]]]:
        if not facts:
            return [], []
        rows = [
            {
                "event_id": f.line.event_id,
                "distributor_id": f.line.distributor_id,
                "reseller_id": f.line.reseller_id,
                "report_id": f.line.report_id,
                "line_no": f.line.line_no,
                "product_line": f.line.product_line,
                "quantity": f.line.quantity,
                "unit_price": f.line.unit_price,
                "currency": f.line.currency,
                "sold_on": f.line.sold_on,
                "period": f.line.period,
                "deal_id": f.line.deal_id,
                "log_partition": f.position[0],
                "log_offset": f.position[1],
                "topic": f.trigger.topic,
                **_provenance(f.trigger),
            }
            for f in facts
        ]
        new = await insert_rows(self.conn, t.lines, rows, returning="event_id")
        rest = [f for f in facts if f.line.event_id not in new]
        if not rest:
            return facts, []
        c = t.lines.c
        keys = [(f.line.distributor_id, f.line.report_id, f.line.line_no) for f in rest]
        found = await self.conn.execute(
            select(c.event_id, c.distributor_id, c.report_id, c.line_no).where(
                tuple_(c.distributor_id, c.report_id, c.line_no).in_(keys)
            )
        )
        holder = {(r.distributor_id, r.report_id, r.line_no): r.event_id for r in found}
        duplicates = [
            (f, first)
            for f in rest
            if (first := holder.get((f.line.distributor_id, f.line.report_id, f.line.line_no)))
            not in (None, f.line.event_id)
        ]
        return [f for f in facts if f.line.event_id in new], duplicates

    async def take_pending(
        self, awaited: list[tuple[Awaited, str]]
    ) -> list[tuple[PendingRule, LineFact]]:
        c = t.pending_rules.c
        taken = (
            await self.conn.execute(
                delete(t.pending_rules)
                .where(tuple_(c.awaiting, c.awaiting_key).in_([(k.value, v) for k, v in awaited]))
                .returning(*t.pending_rules.c)
            )
        ).all()
        if not taken:
            return []
        found = await self.conn.execute(
            select(t.lines).where(t.lines.c.event_id.in_({r.line_event_id for r in taken}))
        )
        by_id = {r.event_id: line_fact(r) for r in found}
        return [
            (
                PendingRule(
                    r.line_event_id, r.program_id, r.program_version, Rule(r.rule),
                    Awaited(r.awaiting), r.awaiting_key,
                ),
                by_id[r.line_event_id],
            )
            for r in taken
        ]  # fmt: skip

    async def partners(self, ids: set[str]) -> dict[str, PartnerFact]:
        if not ids:
            return {}
        rows = await self.conn.execute(select(t.partners).where(t.partners.c.partner_id.in_(ids)))
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
        rows = await self.conn.execute(select(t.deals).where(t.deals.c.deal_id.in_(ids)))
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
        c = t.volume_positions.c
        rows = await self.conn.execute(
            select(c.program_id, c.program_version, c.distributor_id, c.period, c.revenue).where(
                tuple_(c.program_id, c.program_version, c.distributor_id, c.period).in_(keys)
            )
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
        saved = await self._insert_accruals(postings)
        await self._add_totals(saved)
        await insert_rows(
            self.conn,
            t.pending_rules,
            [
                {
                    "line_event_id": p.line_event_id,
                    "program_id": p.program_id,
                    "program_version": p.program_version,
                    "rule": p.rule.value,
                    "awaiting": p.awaiting.value,
                    "awaiting_key": p.key,
                }
                for p in pending
            ],
        )
        await insert_rows(self.conn, t.skipped_rules, [s.__dict__ for s in skipped])
        if volumes:
            stmt = insert(t.volume_positions)
            await self.conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["program_id", "program_version", "distributor_id", "period"],
                    set_={"revenue": stmt.excluded.revenue},
                ),
                [
                    {
                        "program_id": k[0],
                        "program_version": k[1],
                        "distributor_id": k[2],
                        "period": k[3],
                        "revenue": v,
                    }
                    for k, v in sorted(volumes.items())
                ],
            )
        return saved

    async def _insert_accruals(self, postings: list[Posting]) -> list[Posting]:
        if not postings:
            return []
        rows = []
        for p in postings:
            a = p.accrual
            rows.append(
                {
                    **a.__dict__,
                    "reason": a.reason.value,
                    "line_partition": p.line.position[0],
                    "line_offset": p.line.position[1],
                    "source_event_id": p.trigger.event_id,
                    "source_topic": p.trigger.topic,
                    "correlation_id": p.trigger.correlation_id,
                    "recorded_at": p.trigger.recorded_at,
                }
            )
        new = await insert_rows(self.conn, t.accruals, rows, returning="accrual_id")
        return [p for p in postings if p.accrual.accrual_id in new]

    async def _add_totals(self, saved: list[Posting]) -> None:
        if not saved:
            return
        sums: dict[tuple[str, str, int, str, str], list[Any]] = defaultdict(
            lambda: [None, Decimal(0), 0]
        )
        for p in saved:
            a = p.accrual
            entry = sums[(a.partner_id, a.program_id, a.program_version, a.period, a.reason.value)]
            entry[0], entry[1], entry[2] = a.currency, entry[1] + a.amount, entry[2] + 1
        stmt = insert(t.accrual_totals)
        await self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["partner_id", "program_id", "program_version", "period", "reason"],
                set_={
                    "amount": t.accrual_totals.c.amount + stmt.excluded.amount,
                    "accruals": t.accrual_totals.c.accruals + stmt.excluded.accruals,
                },
            ),
            [
                {
                    "partner_id": k[0],
                    "program_id": k[1],
                    "program_version": k[2],
                    "period": k[3],
                    "reason": k[4],
                    "currency": v[0],
                    "amount": v[1],
                    "accruals": v[2],
                }
                for k, v in sorted(sums.items())
            ],
        )

    async def stage(self, events: list[dict[str, Any]]) -> None:
        if events:
            await self.outbox.add_bulk(self.conn, [(REBATE_ACCRUED, e) for e in events])
