"""`channelstream views scorecard|scorecards`: partner scorecards from analytics."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import httpx
import typer
from rich.table import Table

from channelstream_cli.client import request
from channelstream_cli.output import console, fail, table

app = typer.Typer(no_args_is_help=True)

QUARTER_HELP = "calendar quarter, e.g. 2026-Q4"
CSV_HELP = "print CSV (as the service serves it) instead of a table"
IDENTITY = ("partner_id", "legal_name", "partner_type", "tier", "parent_distributor_id")


def error_line(response: httpx.Response) -> str:
    try:
        err = response.json()["error"]
        return f"{err['code']}: {err['detail']}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}: {response.text[:200]}"


def get(path: str, csv: bool, params: dict[str, str] | None = None) -> httpx.Response:
    response = request("analytics", "GET", path, params={**(params or {}), **_fmt(csv)})
    if response.status_code != 200:
        fail(error_line(response))
    return response


def _fmt(csv: bool) -> dict[str, str]:
    return {"format": "csv"} if csv else {}


def shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@app.command()
def scorecard(
    partner_id: Annotated[str, typer.Argument(help="enrolled partner id")],
    quarter: Annotated[str, typer.Argument(help=QUARTER_HELP)],
    csv: Annotated[bool, typer.Option("--csv", help=CSV_HELP)] = False,
) -> None:
    """One partner's scorecard for a quarter (distributor or reseller metrics)."""
    response = get(f"/scorecards/{quote(partner_id, safe='')}/{quote(quarter, safe='')}", csv)
    if csv:
        typer.echo(response.text, nl=False)
        return
    card = response.json()
    title = f"{card['scorecard_type']} scorecard {card['partner_id']} {card['quarter']}"
    table(title, {k: shown(v) for k, v in card.items()})


@app.command()
def scorecards(
    quarter: Annotated[str, typer.Argument(help=QUARTER_HELP)],
    partner_type: Annotated[
        str | None, typer.Option("--type", help="distributor or reseller (default: both)")
    ] = None,
    csv: Annotated[bool, typer.Option("--csv", help=CSV_HELP)] = False,
) -> None:
    """Every partner's scorecard for a quarter: one table per scorecard type."""
    if partner_type is not None and partner_type not in ("distributor", "reseller"):
        fail(f"--type must be distributor or reseller, not {partner_type!r}")
    params = {"quarter": quarter, **({"partner_type": partner_type} if partner_type else {})}
    response = get("/scorecards", csv, params)
    if csv:
        typer.echo(response.text, nl=False)
        return
    cards = response.json()["scorecards"]
    for kind in ("distributor", "reseller"):
        rows = [c for c in cards if c["scorecard_type"] == kind]
        if partner_type in (None, kind):
            print_cards(f"{kind} scorecards {response.json()['quarter']}", rows)


def print_cards(title: str, cards: list[dict[str, Any]]) -> None:
    if not cards:
        console.print(f"{title}: none")
        return
    skip = {"legal_name", "scorecard_type", "quarter", "quarter_start", "quarter_end", "tier"}
    skip.add("enrolled_on")
    if cards[0]["scorecard_type"] == "distributor":  # always DISTRIBUTOR, never a parent
        skip.update({"partner_type", "parent_distributor_id"})
    columns = [k for k in cards[0] if k not in skip]
    t = Table(title=title)
    for column in columns:
        t.add_column(column.replace("_", " "), justify="left" if column in IDENTITY else "right")
    for card in cards:
        t.add_row(*(shown(card.get(c)) for c in columns))
    console.print(t)
