"""Read side: the ledger and totals tables behind statements, accrual look-ups and the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from channelstream_common.db import reading
from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from incentives.adapters import tables as t
from incentives.domain.model import Accrual, Reason
from incentives.domain.statement import Total

_a = t.accruals.c
_REASON_RANK = case({r.value: i for i, r in enumerate(Reason)}, value=_a.reason)
LEDGER_ORDER = (
    _a.period, _a.partner_id, _a.sold_on, _a.line_partition, _a.line_offset, _REASON_RANK,
    _a.program_id, _a.program_version,
)  # fmt: skip


def to_accrual(row: dict[str, Any]) -> Accrual:
    return Accrual(
        **{k: row[k] for k in Accrual.__dataclass_fields__ if k != "reason"},
        reason=Reason(row["reason"]),
    )


@dataclass(frozen=True)
class LedgerPage:
    rows: list[dict[str, Any]]
    count: int
    totals: list[Total]


async def _totals(conn: AsyncConnection, filters: dict[str, str | None]) -> list[Total]:
    c = t.accrual_totals.c
    where = [c[k] == v for k, v in filters.items() if v is not None]
    rows = await conn.execute(
        select(t.accrual_totals).where(*where).order_by(*t.accrual_totals.primary_key)
    )
    return [Total(**{**r._mapping, "reason": Reason(r.reason)}) for r in rows]


class ReadModel:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def statement(
        self, partner_id: str, period: str
    ) -> tuple[list[dict[str, Any]], list[Total]]:
        page = await self.ledger(partner_id=partner_id, period=period)
        return page.rows, page.totals

    async def partner_known(self, partner_id: str) -> bool:
        async with reading(self.engine) as conn:
            found = await conn.execute(
                select(t.partners.c.partner_id).where(t.partners.c.partner_id == partner_id)
            )
            return found.first() is not None

    async def accrual(self, accrual_id: str) -> dict[str, Any] | None:
        async with reading(self.engine) as conn:
            row = (
                await conn.execute(select(t.accruals).where(_a.accrual_id == accrual_id))
            ).first()
            return dict(row._mapping) if row else None

    async def ledger(
        self,
        *,
        partner_id: str | None = None,
        period: str | None = None,
        program_id: str | None = None,
        reason: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> LedgerPage:
        filters = {
            "partner_id": partner_id,
            "period": period,
            "program_id": program_id,
            "reason": reason,
        }
        where = [t.accruals.c[k] == v for k, v in filters.items() if v is not None]
        async with reading(self.engine) as conn:
            query = select(t.accruals).where(*where).order_by(*LEDGER_ORDER, _a.accrual_id)
            rows = await conn.execute(query.limit(limit).offset(offset))
            count = await conn.scalar(select(func.count()).select_from(t.accruals).where(*where))
            return LedgerPage(
                [dict(r._mapping) for r in rows], int(count or 0), await _totals(conn, filters)
            )

    async def totals(self, **filters: str | None) -> list[Total]:
        """The sums per partner, program version, period and reason: one small table, whatever
        the size of the ledger."""
        async with reading(self.engine) as conn:
            return await _totals(conn, filters)

    async def not_accrued(
        self, partner_id: str | None, period: str | None
    ) -> dict[str, list[dict[str, Any]]]:
        """Lines a rule did not pay for (skipped, with the code) or is still waiting to decide."""
        lc = t.lines.c
        where = []
        if partner_id is not None:
            where.append(or_(lc.distributor_id == partner_id, lc.reseller_id == partner_id))
        if period is not None:
            where.append(lc.period == period)
        cols = (
            lc.event_id.label("line_event_id"), lc.distributor_id, lc.reseller_id, lc.report_id,
            lc.line_no, lc.period, lc.sold_on, lc.currency, lc.product_line, lc.deal_id,
        )  # fmt: skip
        s, p = t.skipped_rules.c, t.pending_rules.c
        async with reading(self.engine) as conn:
            skipped = await conn.execute(
                select(*cols, s.program_id, s.program_version, s.rule, s.code, s.detail)
                .join_from(t.skipped_rules, t.lines, s.line_event_id == lc.event_id)
                .where(*where)
                .order_by(
                    lc.period, lc.sold_on, lc.log_partition, lc.log_offset, s.program_id, s.rule
                )
            )
            pending = await conn.execute(
                select(*cols, p.program_id, p.program_version, p.rule, p.awaiting, p.awaiting_key)
                .join_from(t.pending_rules, t.lines, p.line_event_id == lc.event_id)
                .where(*where)
                .order_by(
                    lc.period, lc.sold_on, lc.log_partition, lc.log_offset, p.program_id, p.rule
                )
            )
            return {
                "skipped": [dict(r._mapping) for r in skipped],
                "awaiting": [dict(r._mapping) for r in pending],
            }
