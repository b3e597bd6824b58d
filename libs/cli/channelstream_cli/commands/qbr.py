"""`channelstream qbr DISTRIBUTOR_ID QUARTER`: the QBR package (HTML report, JSON, CSVs)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from channelstream_cli.client import request
from channelstream_cli.commands.views_analytics import error_line
from channelstream_cli.output import console, fail

app = typer.Typer(no_args_is_help=True, subcommand_metavar=" ")


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_csv(rows: list[dict[str, Any]]) -> str:
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([cell(row.get(c)) for c in columns] for row in rows)
    return out.getvalue()


def tables(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Each table of the package (a list of flat rows), and the scorecard as one row."""
    found = {
        k: v for k, v in data.items() if isinstance(v, list) and all(isinstance(r, dict) for r in v)
    }
    return {"scorecard": [data["scorecard"]], **found}


@app.callback(invoke_without_command=True, context_settings={"allow_interspersed_args": True})
def qbr(
    distributor_id: Annotated[str, typer.Argument(help="enrolled distributor id")],
    quarter: Annotated[str, typer.Argument(help="calendar quarter, e.g. 2026-Q4")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="directory to write into (default: ./qbr-ID-QUARTER)"),
    ] = None,
) -> None:
    """Write the QBR package of a distributor for a quarter: report.html (self-contained,
    opens offline), data.json and one CSV per table; prints the report's path."""
    base = f"/qbr/{quote(distributor_id, safe='')}/{quote(quarter, safe='')}"
    target = out or Path(f"qbr-{distributor_id}-{quarter.upper()}")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("fetching data", total=3)
        data_response = request("analytics", "GET", f"{base}.json")
        if data_response.status_code != 200:
            fail(error_line(data_response))
        progress.update(task, advance=1, description="rendering report")
        report = request("analytics", "GET", base)
        if report.status_code != 200:
            fail(error_line(report))
        progress.update(task, advance=1, description="writing files")
        data = data_response.json()
        try:
            target.mkdir(parents=True, exist_ok=True)
            (target / "report.html").write_text(report.text, encoding="utf-8")
            (target / "data.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
            for name, rows in tables(data).items():
                (target / f"{name}.csv").write_text(to_csv(rows), encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write the package to {target}: {exc}")
        progress.update(task, advance=1)
    written = ", ".join(sorted(p.name for p in target.iterdir()))
    console.print(f"QBR {data['distributor']['partner_id']} {data['quarter']}: {written}")
    typer.echo(str((target / "report.html").resolve()))
