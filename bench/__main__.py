"""`uv run python -m bench [--lines N] [--quick] [--json out.json]`: run the benchmark."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import typer
from channelstream_cli.output import console, fail
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from bench import report as reporting
from bench.runner import PHASES, Config, run

app = typer.Typer(add_completion=False)
SKIP_HELP = f"phase to leave out: {', '.join(PHASES)} (repeatable)"


@app.command()
def bench(
    lines: int | None = typer.Option(
        None, "--lines", help="sell-through lines to push end to end (default 1 000 000)"
    ),
    quick: bool = typer.Option(
        False,
        help="smoke test: 10 000 lines, 200 lines/s of freshness for 10 s; fails unless the"
        " views settle to the expected totals (speed is not asserted)",
    ),
    json_path: Path | None = typer.Option(
        None, "--json", help="also write the JSON report here (always under bench/out/)"
    ),
    freshness_rate: float | None = typer.Option(
        None, help="offered load of the freshness phase, lines/s (default 2 000)"
    ),
    freshness_seconds: float | None = typer.Option(
        None, help="length of the freshness phase, seconds (default 60)"
    ),
    concurrency: int = typer.Option(4, help="report files uploaded at once"),
    file_lines: int = typer.Option(5_000, help="lines per report file"),
    skip: list[str] = typer.Option([], help=SKIP_HELP),
    profile: bool = typer.Option(
        False, help="sample every service with py-spy during the end-to-end phase"
    ),
    keep: bool = typer.Option(
        False, help="keep the run's databases, topics and generated files for inspection"
    ),
) -> None:
    """Measure end-to-end throughput, freshness and replay of the five services as separate
    processes, against a raw single-hop floor and batch SQL measured in the same run."""
    unknown = sorted(set(skip) - set(PHASES))
    if unknown:
        fail(f"unknown phase {', '.join(unknown)}; choose from {', '.join(PHASES)}")
    config = Config.quick_mode() if quick else Config()
    config = replace(
        config,
        lines=config.lines if lines is None else lines,
        freshness_rate=config.freshness_rate if freshness_rate is None else freshness_rate,
        freshness_seconds=(
            config.freshness_seconds if freshness_seconds is None else freshness_seconds
        ),
        concurrency=concurrency,
        file_lines=file_lines,
        skip=frozenset(skip),
        profile=profile,
        keep=keep,
    )
    if config.lines < 1:
        fail("--lines must be at least 1")
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        try:
            result = asyncio.run(run(config, progress=progress, log=console.log))
        except Exception as exc:  # one line, like every channelstream command
            fail(f"{type(exc).__name__}: {exc}")
        except KeyboardInterrupt:
            fail("interrupted", code=130)
    out = config.out / f"{result['started_at']}.json"
    reporting.write(result, out, *([json_path] if json_path else []))
    reporting.render(result, console)
    console.print(f"report: {out}")
    if not result["ok"]:
        fail("the views did not settle to the expected totals")


if __name__ == "__main__":
    app()
