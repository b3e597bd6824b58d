"""Read use cases: scorecards, inventory positions and the QBR package, from the `bi` views."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from analytics.adapters.repository import Row, Views
from analytics.domain import qbr
from analytics.domain.quarters import InvalidQuarter, Quarter
from analytics.domain.scorecard import (
    DISTRIBUTOR_METRICS,
    IDENTITY,
    SCORECARD_TYPES,
    metrics_of,
    money,
)

REBATE_REASONS = ("BASE", "TIER_TRUE_UP", "DEAL_REG_BONUS")
MONEY_FIELDS = ("sell_in_revenue", "sell_through_revenue", "rebate_accrued")
# loading_skus is a position as of the end of data, the same in every quarter: no delta
QOQ_METRICS = tuple(m for m in DISTRIBUTOR_METRICS if m != "loading_skus")


class AnalyticsError(Exception):
    """A request that cannot be answered, with an HTTP status and a stable code."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def parse_quarter(text: str | None) -> Quarter:
    if not text:
        raise AnalyticsError(400, "MISSING_QUARTER", "a quarter like 2026-Q4 is required")
    try:
        return Quarter.parse(text)
    except InvalidQuarter as exc:
        raise AnalyticsError(400, "INVALID_QUARTER", str(exc)) from exc


def present(row: Row) -> Row:
    """The fields that apply to the partner's scorecard type, money rounded to cents."""
    out = {k: row[k] for k in IDENTITY}
    for metric in metrics_of(row["scorecard_type"]):
        value = row[metric]
        out[metric] = money(value) if metric in MONEY_FIELDS else value
    return out


class Analytics:
    def __init__(self, views: Views) -> None:
        self.views = views

    async def scorecard(self, partner_id: str, quarter_text: str) -> Row:
        quarter = parse_quarter(quarter_text)
        row = await self.views.scorecard(partner_id, str(quarter))
        if row is None:
            raise await self._no_scorecard(partner_id, quarter)
        return present(row)

    async def _no_scorecard(self, partner_id: str, quarter: Quarter) -> AnalyticsError:
        if await self.views.partner(partner_id) is None:
            return AnalyticsError(404, "UNKNOWN_PARTNER", f"no enrolled partner {partner_id!r}")
        quarters = await self.views.quarters_of(partner_id)
        covered = f"{quarters[0]}..{quarters[-1]}" if quarters else "none"
        return AnalyticsError(
            404,
            "NO_SCORECARD",
            f"no scorecard for {partner_id} in {quarter}: its scorecards cover {covered}",
        )

    async def scorecards(self, quarter_text: str | None, kind: str | None) -> list[Row]:
        quarter = parse_quarter(quarter_text)
        if kind is not None and kind not in SCORECARD_TYPES:
            raise AnalyticsError(
                400, "INVALID_PARTNER_TYPE", f"partner_type must be one of {SCORECARD_TYPES}"
            )
        return [present(r) for r in await self.views.scorecards(str(quarter), kind)]

    async def _distributor(self, distributor_id: str) -> Row:
        partner = await self.views.partner(distributor_id)
        if partner is None:
            raise AnalyticsError(
                404, "UNKNOWN_DISTRIBUTOR", f"no enrolled partner {distributor_id!r}"
            )
        if partner["partner_type"] != "DISTRIBUTOR":
            raise AnalyticsError(
                422,
                "NOT_A_DISTRIBUTOR",
                f"{distributor_id} is a {partner['partner_type']}, not a distributor",
            )
        return partner

    async def inventory(self, distributor_id: str | None) -> list[Row]:
        rows = await self.views.positions(distributor_id)
        if distributor_id is not None and not rows:
            await self._distributor(distributor_id)
        return rows

    async def qbr(self, distributor_id: str, quarter_text: str) -> dict[str, Any]:
        """Everything the QBR report shows, as flat tables (each becomes one CSV)."""
        quarter = parse_quarter(quarter_text)
        partner = await self._distributor(distributor_id)
        q, prev = str(quarter), str(quarter.previous)
        card = await self.views.scorecard(distributor_id, q)
        if card is None:
            raise await self._no_scorecard(distributor_id, quarter)
        before = await self.views.scorecard(distributor_id, prev)
        current = present(card)
        previous = present(before) if before else None
        daily = await self.views.daily_sell_through(distributor_id, quarter.start, quarter.end)
        sales = [
            qbr.ResellerSales(
                r["reseller_id"],
                r["legal_name"],
                int(r["units"]),
                r["revenue"],
                r["previous_revenue"],
            )
            for r in await self.views.reseller_sales(distributor_id, q, prev)
        ]
        positions = await self.views.positions(distributor_id)
        rebates = await self.views.rebates_by_reason(distributor_id, q)
        network = await self.views.network(distributor_id, q)
        return {
            "distributor": {
                k: partner[k] for k in ("partner_id", "legal_name", "tier", "enrolled_on")
            },
            "quarter": q,
            "previous_quarter": prev,
            "scorecard": current,
            "previous_scorecard": previous,
            "quarter_over_quarter": [vars(d) for d in qbr.deltas(current, previous, QOQ_METRICS)],
            "weekly_sell_through": [vars(w) for w in qbr.weekly_trend(quarter, daily)],
            "top_resellers": _top(sales, card["sell_through_revenue"]),
            "inventory_as_of": max((p["as_of"] for p in positions if p["as_of"]), default=None),
            "weeks_of_supply": [{k: p[k] for k in p if k != "distributor_id"} for p in positions],
            "rebates_by_reason": [_rebate(r, rebates.get(r)) for r in REBATE_REASONS],
            "reseller_network": [
                {
                    "partner_id": r["partner_id"],
                    "legal_name": r["legal_name"],
                    "partner_type": r["partner_type"],
                    "enrolled_on": r["enrolled_on"],
                    "new_this_quarter": r["enrolled_on"] >= quarter.start,
                    "sell_through_revenue": money(r["sell_through_revenue"]),
                    "deals_registered": r["deals_registered"],
                    "dark": r["dark"],
                }
                for r in network
            ],
        }


def _top(sales: list[qbr.ResellerSales], total: Decimal) -> list[Row]:
    return [
        {
            "rank": rank,
            "reseller_id": s.reseller_id,
            "legal_name": s.legal_name,
            "units": s.units,
            "revenue": money(s.revenue),
            "share_pct": qbr.share(money(s.revenue), total),
            "previous_revenue": money(s.previous_revenue),
            "change": money(s.revenue - s.previous_revenue),
        }
        for rank, s in enumerate(qbr.top_resellers(sales), 1)
    ]


def _rebate(reason: str, row: Row | None) -> Row:
    return {
        "reason": reason,
        "accruals": int(row["accruals"]) if row else 0,
        "amount": money(row["amount"] if row else Decimal(0)),
    }
