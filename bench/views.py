"""Reading the three views over HTTP and comparing them with the expected totals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from bench.expected import PROGRAM, VOLUME_BRACKETS, Expected

QUARTERS = ("2026-Q2", "2026-Q3")


@dataclass(frozen=True)
class Check:
    view: str
    ok: bool
    summary: str  # totals seen vs expected, or the first differences


def _diff(seen: Mapping[Any, Any], want: Mapping[Any, Any], show: int = 3) -> str:
    keys = sorted(set(seen) | set(want), key=str)
    bad = [k for k in keys if seen.get(k) != want.get(k)]
    parts = [f"{k}: {seen.get(k)} != {want.get(k)}" for k in bad[:show]]
    return f"{len(bad)} differ ({'; '.join(parts)})" if bad else "equal"


async def _json(client: httpx.AsyncClient, url: str) -> Any:
    response = await client.get(url, timeout=120)
    response.raise_for_status()
    return response.json()


async def inventory(client: httpx.AsyncClient, base: str, ex: Expected) -> Check:
    body = await _json(client, f"{base}/inventory")
    seen = {
        (r["distributor_id"], r["sku"]): (int(r["sell_in_units"]), int(r["sell_through_units"]))
        for r in body["rows"]
    }
    want = ex.inventory()
    units = sum(v[1] for v in seen.values())
    ok = seen == want
    return Check("inventory", ok, f"sell_through_units {units} / {ex.units}; {_diff(seen, want)}")


async def rebates(client: httpx.AsyncClient, base: str, ex: Expected) -> Check:
    body = await _json(client, f"{base}/totals")
    seen: dict[tuple[str, str], Decimal] = {}
    for t in body["totals"]:
        key = (t["partner_id"], t["period"])
        seen[key] = seen.get(key, Decimal(0)) + Decimal(t["amount"])
    seen = {k: v for k, v in seen.items() if v}
    want = ex.rebates()
    total = sum(seen.values(), Decimal(0))
    ok = seen == want
    return Check("rebates", ok, f"accrued {total} / {ex.rebate_total()}; {_diff(seen, want)}")


async def scorecards(client: httpx.AsyncClient, base: str, ex: Expected) -> Check:
    """Units and revenue of every partner's scorecard, and the rebate it shows (which arrives
    from incentives through RebateAccrued: the last hop of the pipeline)."""
    seen_cards: dict[tuple[str, str], tuple[int, Decimal]] = {}
    seen_rebates: dict[tuple[str, str], Decimal] = {}
    for quarter in QUARTERS:
        body = await _json(client, f"{base}/scorecards?quarter={quarter}")
        for c in body["scorecards"]:
            key = (c["partner_id"], quarter)
            units = int(c["sell_through_units"] or 0)
            revenue = Decimal(c["sell_through_revenue"] or 0)
            if units or revenue:
                seen_cards[key] = (units, revenue)
            if Decimal(c["rebate_accrued"] or 0):
                seen_rebates[key] = Decimal(c["rebate_accrued"])
    want_cards = {k: v for k, v in ex.scorecards().items() if v[0] or v[1]}
    want_rebates = ex.rebates()
    units = sum(v[0] for k, v in seen_cards.items() if k[0].startswith("BD-"))
    ok = seen_cards == want_cards and seen_rebates == want_rebates
    return Check(
        "scorecards",
        ok,
        f"distributor sell_through_units {units} / {ex.units};"
        f" cards {_diff(seen_cards, want_cards)}; rebates {_diff(seen_rebates, want_rebates)}",
    )


async def program_is_default(client: httpx.AsyncClient, base: str) -> None:
    """The expected rebates assume the bundled program; refuse to measure against another."""
    body = await _json(client, f"{base}/programs")
    programs = body["programs"]
    found = [(p["program_id"], p["version"], p["currency"]) for p in programs]
    brackets = programs[0]["distributor_volume_rebate"]["rates"] if programs else None
    want = [{"from": str(lo), "rate": str(rate)} for lo, rate in VOLUME_BRACKETS]
    if (
        found != [PROGRAM]
        or [
            {"from": str(Decimal(b["from"])), "rate": str(Decimal(b["rate"]))}
            for b in brackets or []
        ]
        != want
    ):
        raise RuntimeError(f"incentives runs {found}, not the default program {PROGRAM}")
