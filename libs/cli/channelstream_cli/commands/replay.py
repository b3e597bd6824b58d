"""`channelstream replay SERVICE|all`: rebuild projections from the topics and compare with live."""

from __future__ import annotations

import asyncio
import importlib
import json
from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import Any

import typer
from channelstream_common import replay as engine
from channelstream_common.db import create_database, drop_database, make_engine
from channelstream_common.settings import Settings
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from channelstream_cli.output import console, fail

SERVICES = ("onboarding", "dealreg", "sellthrough", "incentives", "analytics")
app = typer.Typer()


def _parse_until(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--until must be an ISO timestamp such as 2026-09-30T23:59:59Z, not {value!r}")
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def replay_database_name(live_url: str, stamp: str) -> tuple[str, str]:
    server, _, db = live_url.rpartition("/")
    name = f"{db}_replay_{stamp}"
    return server, name


async def replay_service(
    service: str,
    until: datetime | None,
    keep: bool,
    stamp: str,
    show_progress: bool = True,
    live: Settings | None = None,
) -> dict[str, Any]:
    """Rebuild `service`'s projections into a new database and compare with `live`'s."""
    live = live or Settings.from_env(service)
    server, name = replay_database_name(live.database_url, stamp)
    url = create_database(server, name)
    try:  # without --keep the replay database goes, also when the rebuild fails
        report = await _rebuild_and_compare(service, url, live, until, show_progress)
    finally:
        if not keep:
            drop_database(server, name)
    report["replay_database"] = name if keep else None
    return report


async def _rebuild_and_compare(
    service: str, url: str, live: Settings, until: datetime | None, show_progress: bool
) -> dict[str, Any]:
    module = importlib.import_module(f"{service}.bootstrap")
    runtime = module.bootstrap(replace(live, database_url=url)).runtime
    try:
        with Progress(
            TextColumn(f"[bold]{service}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} events/s"),
            TimeRemainingColumn(),
            console=console,
            disable=not show_progress,
        ) as bar:
            task = bar.add_task(service, total=None, rate="-")
            started = datetime.now(UTC)

            def progress(done: int, total: int) -> None:
                secs = max((datetime.now(UTC) - started).total_seconds(), 1e-6)
                bar.update(task, completed=done, total=total, rate=f"{done / secs:,.0f}")

            result = await engine.rebuild(runtime, until=until, progress=progress)
        report: dict[str, Any] = {
            **asdict(result),
            "events_per_second": result.events_per_second,
            "tables": [],
        }
        if until is None:
            declared = [t for spec in runtime.projections for t in spec.tables]
            tables = declared or await engine.tables_of(runtime.engine)
            tables = sorted({*tables, "projection_positions"})
            live_engine = make_engine(live.database_url)
            try:
                compared = await engine.compare(live_engine, runtime.engine, tables)
            finally:
                await live_engine.dispose()
            report["tables"] = [asdict(c) for c in compared]
            report["equal"] = all(c.equal for c in compared)
        return report
    finally:
        await runtime.stop()


def _print(report: dict[str, Any]) -> None:
    console.print(
        f"[bold]{report['service']}[/]: {report['events']:,} events, "
        f"{report['applied']:,} applied in {report['seconds']:.1f}s "
        f"({report['events_per_second']:,.0f} events/s)"
        + (f", {report['dead_lettered']} undecodable" if report["dead_lettered"] else "")
    )
    if not report["tables"]:
        return
    t = Table("table", "live rows", "replay rows", "equal")
    for c in report["tables"]:
        t.add_row(
            c["table"],
            str(c["live_rows"]),
            str(c["replay_rows"]),
            "[green]yes[/]" if c["equal"] else "[red]NO[/]",
        )
    console.print(t)
    for c in report["tables"]:
        for line in c["differences"]:
            console.print(f"  {c['table']}: {line}")


@app.callback(invoke_without_command=True)
def replay(
    service: str = typer.Argument(..., help=f"one of {', '.join(SERVICES)}, or all"),
    until: str | None = typer.Option(
        None, help="rebuild the state as of this instant (events with recorded_at <= it)"
    ),
    keep: bool = typer.Option(False, help="keep the replay database for inspection"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Rebuild projections from the beginning of their topics into a fresh database, without
    touching the live service, and compare table by table (row counts + content checksum)."""
    names = SERVICES if service == "all" else (service,)
    if any(n not in SERVICES for n in names):
        fail(f"unknown service {service!r}; choose one of {', '.join(SERVICES)} or all")
    at = _parse_until(until)
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")

    async def run() -> list[dict[str, Any]]:
        return [await replay_service(n, at, keep, stamp, not as_json) for n in names]

    reports = asyncio.run(run())
    if as_json:
        typer.echo(json.dumps(reports, default=str, indent=2))
    else:
        for r in reports:
            _print(r)
    if any(r.get("equal") is False for r in reports):
        raise typer.Exit(1)
