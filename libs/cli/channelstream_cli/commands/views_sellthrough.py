"""`channelstream views inventory`: channel inventory per distributor x SKU (sellthrough)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from channelstream_cli.client import request
from channelstream_cli.output import console, fail

app = typer.Typer(no_args_is_help=True)


@app.command()
def inventory(
    distributor: Annotated[
        str | None, typer.Option("--distributor", help="only this distributor's partner id")
    ] = None,
    csv: Annotated[bool, typer.Option("--csv", help="print CSV instead of a table")] = False,
) -> None:
    """Channel inventory per distributor and SKU, with weeks of supply and loading flags.

    Sell-in, sell-through (net of returns), on hand, weeks of supply (on hand / average weekly
    units over the 91 days up to the distributor's latest sale) and the loading flag (over 12
    weeks of supply, or stock that does not sell).
    """
    params: dict[str, Any] = {"format": "csv" if csv else "json"}
    if distributor:
        params["distributor_id"] = distributor
    response = request("sellthrough", "GET", "/inventory", params=params)
    if response.status_code != 200:
        try:
            err = response.json()["error"]
            fail(f"{err['code']}: {err['detail']}")
        except (ValueError, KeyError, TypeError):
            fail(f"sellthrough answered HTTP {response.status_code}")
    if csv:
        typer.echo(response.text, nl=False)
        return
    rows = response.json()["rows"]
    t = Table(title="channel inventory" + (f" of {distributor}" if distributor else ""))
    for column in ("distributor", "sku", "sell-in", "sell-through", "on hand", "as of"):
        t.add_column(column, justify="right" if column not in ("distributor", "sku") else "left")
    t.add_column("avg/week", justify="right")
    t.add_column("weeks of supply", justify="right")
    t.add_column("loading")
    for r in rows:
        t.add_row(
            r["distributor_id"],
            r["sku"],
            f"{r['sell_in_units']:,}",
            f"{r['sell_through_units']:,}",
            f"{r['on_hand']:,}",
            r["as_of"] or "-",
            r["avg_weekly_units"],
            r["weeks_of_supply"] or "-",
            "[red]LOADING" if r["loading_flag"] else "",
        )
    console.print(t)
    if not rows:
        console.print("no inventory yet" + (f" for {distributor}" if distributor else ""))
