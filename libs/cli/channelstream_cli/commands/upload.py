"""`channelstream upload report|shipments|report-status`: sell-through and sell-in files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import httpx
import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from channelstream_cli.client import request
from channelstream_cli.output import console, fail

app = typer.Typer(no_args_is_help=True)

CONTENT_TYPES = {
    ".csv": "text/csv",
    ".jsonl": "application/x-ndjson",
    ".ndjson": "application/x-ndjson",
}
CHUNK = 64 * 1024
REFUSED = 2  # the service refused the request; 1 is kept for transport errors
FILE = Annotated[
    Path,
    typer.Argument(
        exists=True, dir_okay=False, readable=True, help="a .csv (exact header) or .jsonl file"
    ),
]


def _error_line(response: httpx.Response) -> str:
    try:
        err = response.json()["error"]
        return f"{err['code']}: {err['detail']}"
    except (ValueError, KeyError, TypeError):
        return f"sellthrough answered HTTP {response.status_code}: {response.text[:200]}"


def _chunks(path: Path, progress: Progress, task: Any) -> Iterator[bytes]:
    with path.open("rb") as f:
        while data := f.read(CHUNK):
            yield data
            progress.update(task, advance=len(data))


def _send(endpoint: str, file: Path, submitted_by: str | None) -> dict[str, Any]:
    content_type = CONTENT_TYPES.get(file.suffix.lower())
    if content_type is None:
        fail(f"{file.name}: expected a .csv, .jsonl or .ndjson file", REFUSED)
    headers = {"Content-Type": content_type, "X-Ingestion-Path": "CLI"}
    if submitted_by:
        headers["X-Submitted-By"] = submitted_by
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(f"uploading {file.name}", total=file.stat().st_size)
        response = request(
            "sellthrough",
            "POST",
            endpoint,
            content=_chunks(file, progress, task),
            headers=headers,
            timeout=httpx.Timeout(900, connect=10),
        )
    if response.status_code != 200:
        fail(_error_line(response), REFUSED)
    result: dict[str, Any] = response.json()
    return result


def _summary(title: str, result: dict[str, Any]) -> None:
    t = Table(title=title, show_header=False)
    t.add_column("outcome")
    t.add_column("lines", justify="right")
    t.add_row("upload id", result["upload_id"])
    t.add_row("lines", f"{result['lines']:,}")
    t.add_row("[green]accepted", f"{result['accepted']:,}")
    t.add_row("duplicate (no-op)", f"{result['duplicates']:,}")
    t.add_row("[yellow]held (partner not yet enrolled)", f"{result['held']:,}")
    rejected = result["rejected"]
    t.add_row("[red]rejected", f"{sum(rejected.values()):,}")
    for reason, n in rejected.items():
        t.add_row(f"  {reason}", f"{n:,}")
    console.print(t)


@app.command()
def report(
    file: FILE,
    submitted_by: Annotated[
        str | None, typer.Option(help="who submits it (default: the service's 'anonymous')")
    ] = None,
) -> None:
    """Upload a sell-through report (CSV or JSON lines) and print what became of its lines.

    The file is streamed with a progress bar. Exit status: 0 when the file was processed (even
    if lines were rejected), 1 when sellthrough cannot be reached, 2 when it refuses the file
    (e.g. a CSV without the exact header).
    """
    _summary(f"report {file.name}", _send("/reports", file, submitted_by))


@app.command()
def shipments(
    file: FILE,
    submitted_by: Annotated[str | None, typer.Option(help="who submits it")] = None,
) -> None:
    """Upload sell-in shipments (CSV or JSON lines) and print what became of its lines.

    CSV header: shipment_id,distributor_id,sku,quantity,unit_cost,currency,shipped_on. Exit
    status as for `upload report`.
    """
    _summary(f"shipments {file.name}", _send("/shipments", file, submitted_by))


@app.command("report-status")
def report_status(
    report_id: Annotated[str, typer.Argument(help="the distributor's report id")],
    lines: Annotated[
        bool, typer.Option("--lines", help="list every line, not only refused and held ones")
    ] = False,
) -> None:
    """Show a sell-through report's status: counts, reasons, refused and held lines.

    The status spans every upload of the report (distributors resend files).
    """
    response = request("sellthrough", "GET", f"/reports/{quote(report_id, safe='')}")
    if response.status_code != 200:
        fail(_error_line(response), REFUSED)
    s = response.json()
    t = Table(title=f"report {s['report_id']}", show_header=False)
    t.add_column("status")
    t.add_column("lines", justify="right")
    t.add_row("[green]accepted", f"{s['accepted']:,}")
    t.add_row("[yellow]held", f"{s['held']:,}")
    t.add_row("[red]rejected", f"{s['rejected']:,}")
    for reason, n in s["reasons"].items():
        t.add_row(f"  {reason}", f"{n:,}")
    console.print(t)
    shown = [x for x in s["lines"] if lines or x["status"] != "accepted"]
    if shown:
        detail = Table("line", "status", "reason")
        for x in shown:
            detail.add_row(str(x["line_no"]), x["status"], x["reason"] or "")
        console.print(detail)
