"""`channelstream views statement|ledger`: rebate statements and the accrual ledger (incentives)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

import httpx
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from channelstream_cli.client import request
from channelstream_cli.output import console, fail

app = typer.Typer(no_args_is_help=True)

PAGE = 1000


def _error_line(response: httpx.Response) -> str:
    try:
        err = response.json()["error"]
        return f"{err['code']}: {err['detail']}"
    except (ValueError, KeyError, TypeError):
        return f"incentives answered HTTP {response.status_code}: {response.text[:200]}"


def _get(path: str, params: dict[str, Any] | None = None) -> httpx.Response:
    response = request("incentives", "GET", path, params=params or {})
    if response.status_code != 200:
        fail(_error_line(response))
    return response


def percent(rate: str) -> str:
    """'0.025000' -> '2.5%' (exact: rates are decimal strings)."""
    value = (Decimal(rate) * 100).normalize()
    return f"{value:f}%"


@app.command()
def statement(
    partner_id: Annotated[str, typer.Argument(help="partner the rebates accrue to")],
    quarter: Annotated[str, typer.Argument(help="calendar quarter, e.g. 2026-Q4")],
    csv: Annotated[
        bool, typer.Option("--csv", help="print the statement as CSV (lines, then TOTAL)")
    ] = False,
) -> None:
    """A partner's rebate statement for one quarter: every accrual and the total they sum to."""
    path = f"/statements/{quote(partner_id, safe='')}/{quote(quarter, safe='')}"
    if csv:
        typer.echo(_get(path, {"format": "csv"}).text, nl=False)
        return
    s = _get(path).json()
    t = Table(title=f"rebate statement {s['partner_id']} {s['period']}")
    for column in ("sold on", "reason", "program", "deal", "basis", "rate", "amount"):
        t.add_column(column, justify="right" if column in ("basis", "rate", "amount") else "left")
    for line in s["lines"]:
        t.add_row(
            line["sold_on"],
            line["reason"],
            f"{line['program_id']} v{line['program_version']}",
            line["deal_id"] or "",
            line["basis_amount"],
            percent(line["rate"]),
            line["amount"],
        )
    for program in s["programs"]:
        t.add_section()
        name = f"{program['program_id']} v{program['program_version']}"
        for reason, amount in program["totals_by_reason"].items():
            t.add_row("", reason, name, "", "", "", f"{amount} {program['currency']}")
    t.add_section()
    for currency, amount in s["totals_by_currency"].items() or [("", s["total"])]:
        t.add_row("[bold]TOTAL", "", "", "", "", "", f"[bold]{amount} {currency}".rstrip())
    console.print(t)
    if not s["lines"]:
        console.print(f"no accruals for {s['partner_id']} in {s['period']}")


@app.command()
def ledger(
    partner: Annotated[str | None, typer.Option("--partner", help="only this partner")] = None,
    period: Annotated[
        str | None, typer.Option("--period", help="only this quarter, e.g. 2026-Q4")
    ] = None,
) -> None:
    """The rebate ledger: every accrual (oldest quarter first) and the totals by reason."""
    params: dict[str, Any] = {"limit": PAGE}
    if partner:
        params["partner_id"] = partner
    if period:
        params["period"] = period
    first = _get("/ledger", {**params, "offset": 0}).json()
    rows: list[dict[str, Any]] = list(first["accruals"])
    following = first["next_offset"]
    with Progress(
        TextColumn("reading the ledger"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
        disable=following is None,
    ) as bar:
        task = bar.add_task("ledger", total=first["count"], completed=len(rows))
        while following is not None:
            page = _get("/ledger", {**params, "offset": following}).json()
            rows += page["accruals"]
            following = page["next_offset"]
            bar.update(task, completed=len(rows))
    t = Table(title=f"rebate ledger ({first['count']} accruals)")
    for column in ("period", "partner", "sold on", "reason", "program", "amount", "accrual id"):
        t.add_column(column, justify="right" if column == "amount" else "left")
    for a in rows:
        t.add_row(
            a["period"],
            a["partner_id"],
            a["sold_on"],
            a["reason"],
            f"{a['program_id']} v{a['program_version']}",
            f"{a['amount']} {a['currency']}",
            a["accrual_id"],
        )
    console.print(t)
    totals = Table(title="totals by partner, program, quarter and reason")
    for column in ("partner", "program", "period", "reason", "accruals", "amount"):
        totals.add_column(column, justify="right" if column in ("accruals", "amount") else "left")
    for x in first["totals"]:
        totals.add_row(
            x["partner_id"],
            f"{x['program_id']} v{x['program_version']}",
            x["period"],
            x["reason"],
            str(x["accruals"]),
            f"{x['amount']} {x['currency']}",
        )
    console.print(totals)
