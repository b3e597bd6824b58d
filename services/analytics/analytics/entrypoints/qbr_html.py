"""The QBR report: one self-contained HTML page (inline CSS and SVG, no scripts, no links out)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from html import escape
from typing import Any

from channelstream_common.inventory import LOADING_WEEKS

from analytics.entrypoints import svg

STYLE = """
body{font-family:system-ui,sans-serif;color:#1f2933;max-width:960px;margin:2rem auto;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid
#cbd2d9;padding-bottom:.3rem}.sub{color:#7b8794;margin-top:0}table{border-collapse:collapse;
margin:.6rem 0;font-size:.85rem}th,td{padding:.25rem .6rem;border-bottom:1px solid #e4e7eb;
text-align:right}th:first-child,td:first-child{text-align:left}tr.alert td{color:#d64545;
font-weight:600}.kpis{display:flex;flex-wrap:wrap;gap:.8rem}.kpi{border:1px solid #e4e7eb;
border-radius:6px;padding:.5rem .8rem;min-width:140px}.kpi b{display:block;font-size:1.2rem}
.up{color:#2f8132}.down{color:#d64545}
"""

LABELS = {
    "sell_in_revenue": "Sell-in revenue",
    "sell_through_revenue": "Sell-through revenue",
    "sell_through_units": "Sell-through units",
    "sell_through_to_sell_in": "Sell-through / sell-in",
    "active_resellers": "Active resellers",
    "new_resellers": "New resellers",
    "rebate_accrued": "Rebate accrued",
    "loading_skus": "Loading SKUs",
}


def fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal | int):
        return f"{value:,}"
    return str(value)


def _table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], alert: Sequence[bool] = ()
) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cls = ' class="alert"' if i < len(alert) and alert[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{escape(fmt(v))}</td>" for v in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _change(value: Any) -> str:
    if value is None:
        return "n/a"
    sign = "up" if value > 0 else "down" if value < 0 else ""
    return f'<span class="{sign}">{"+" if value > 0 else ""}{escape(fmt(value))}</span>'


def _kpis(data: Mapping[str, Any]) -> str:
    cards = []
    for d in data["quarter_over_quarter"]:
        pct = f" ({_change(d['change_pct'])} %)" if d["change_pct"] is not None else ""
        cards.append(
            f'<div class="kpi">{escape(LABELS[d["metric"]])}<b>{escape(fmt(d["current"]))}</b>'
            f"vs {escape(fmt(d['previous']))}: {_change(d['change'])}{pct}</div>"
        )
    loading = data["scorecard"]["loading_skus"]
    cards.append(f'<div class="kpi">{LABELS["loading_skus"]}<b>{fmt(loading)}</b>now</div>')
    return f'<div class="kpis">{"".join(cards)}</div>'


def _weekly(data: Mapping[str, Any]) -> str:
    weeks = data["weekly_sell_through"]
    chart = svg.trend(
        [w["week_start"].strftime("%d %b") for w in weeks],
        [w["revenue"] for w in weeks],
        title="Weekly net sell-through revenue",
    )
    rows = [(f"{w['week_start']} to {w['week_end']}", w["units"], w["revenue"]) for w in weeks]
    return chart + _table(("Week", "Net units", "Net revenue"), rows)


def _resellers(data: Mapping[str, Any]) -> str:
    top = data["top_resellers"]
    if not top:
        return "<p>No sell-through to resellers in this quarter.</p>"
    chart = svg.hbars(
        [svg.Bar(r["reseller_id"], r["revenue"], fmt(r["revenue"])) for r in top],
        title="Top resellers by net sell-through revenue",
    )
    rows = [
        (
            r["rank"],
            r["reseller_id"],
            r["legal_name"] or "",
            r["units"],
            r["revenue"],
            r["share_pct"],
            r["previous_revenue"],
            r["change"],
        )
        for r in top
    ]
    headers = ("#", "Reseller", "Name", "Units", "Revenue", "Share %", "Previous", "Change")
    return chart + _table(headers, rows)


def _supply(data: Mapping[str, Any]) -> str:
    skus = data["weeks_of_supply"]
    if not skus:
        return "<p>No sell-in or sell-through recorded for this distributor.</p>"
    bars = [
        svg.Bar(
            p["sku"],
            p["weeks_of_supply"],
            fmt(p["weeks_of_supply"]) if p["weeks_of_supply"] is not None else "no sell-through",
            highlight=p["loading_flag"],
            note="LOADING" if p["loading_flag"] else "",
        )
        for p in skus
    ]
    chart = svg.hbars(bars, title="Weeks of supply by SKU", threshold=LOADING_WEEKS)
    rows = [
        (
            p["sku"],
            p["sell_in_units"],
            p["sell_through_units"],
            p["on_hand"],
            p["avg_weekly_units"],
            p["weeks_of_supply"],
            p["loading_flag"],
        )
        for p in skus
    ]
    headers = ("SKU", "Sell-in", "Sell-through", "On hand", "Avg/week", "Weeks", "Loading")
    return (
        f'<p class="sub">As of {escape(fmt(data["inventory_as_of"]))}; loading = more than '
        f"{LOADING_WEEKS} weeks of supply, or stock with no sell-through (dashed line).</p>"
        + chart
        + _table(headers, rows, [p["loading_flag"] for p in skus])
    )


def _rebates(data: Mapping[str, Any]) -> str:
    reasons = data["rebates_by_reason"]
    chart = svg.hbars(
        [svg.Bar(r["reason"], r["amount"], fmt(r["amount"])) for r in reasons],
        title="Rebate accrued by reason",
    )
    total = data["scorecard"]["rebate_accrued"]
    rows = [(r["reason"], r["accruals"], r["amount"]) for r in reasons]
    rows.append(("Total", sum(r["accruals"] for r in reasons), total))
    return chart + _table(("Reason", "Accruals", "Amount"), rows)


def _network(data: Mapping[str, Any]) -> str:
    net = data["reseller_network"]
    dark = [r for r in net if r["dark"]]
    new = [r for r in net if r["new_this_quarter"]]
    summary = (
        f"<p>{len(net)} resellers enrolled under this distributor; {len(new)} new this quarter;"
        f" {len(dark)} dark (enrolled before the quarter, no sell-through and no approved deal"
        " in it).</p>"
    )
    rows = [
        (
            r["partner_id"],
            r["legal_name"],
            r["partner_type"],
            r["enrolled_on"],
            r["sell_through_revenue"],
            r["deals_registered"],
            r["dark"],
        )
        for r in net
    ]
    headers = ("Reseller", "Name", "Type", "Enrolled", "Sell-through", "Deals", "Dark")
    return summary + _table(headers, rows, [bool(r["dark"]) for r in net])


def render(data: Mapping[str, Any]) -> str:
    d = data["distributor"]
    title = f"QBR {data['quarter']}: {d['legal_name']} ({d['partner_id']})"
    sections = [
        ("Scorecard vs " + data["previous_quarter"], _kpis(data)),
        ("Weekly sell-through", _weekly(data)),
        ("Top resellers", _resellers(data)),
        ("Weeks of supply by SKU", _supply(data)),
        ("Rebate accrued by reason", _rebates(data)),
        ("Reseller network", _network(data)),
    ]
    body = "".join(f"<section><h2>{escape(h)}</h2>{html}</section>" for h, html in sections)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f'<p class="sub">Market development review: sell-through and reseller network, '
        f"{escape(data['quarter'])} against {escape(data['previous_quarter'])}. "
        f"Tier {escape(d['tier'])}, enrolled {escape(fmt(d['enrolled_on']))}.</p>"
        f"{body}</body></html>"
    )
