"""Ratios to the baselines, the issue's targets (met or missed), the printed table, the JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

# issue 9, on a 2-core machine
E2E_LINES_PER_SECOND = 16_000
FLOOR_SHARE = 0.25
BATCH_FACTOR = 3.0
FRESHNESS_P99 = 1.0
REPLAY_EVENTS_PER_SECOND = 100_000
RSS_MB = 300
SMALL_PROJECTION = 10_000
ENTRY_POINTS = (
    ":main",
    ":serve",
    ":run_service",
)  # on every stack of a service  # fewer events than this: start-up dominates, no rate target


def _target(name: str, target: str, measured: Any, met: bool | None) -> dict[str, Any]:
    return {"name": name, "target": target, "measured": measured, "met": met}


def evaluate(report: dict[str, Any]) -> None:
    """Adds `ratios`, `targets` and `ok` (the views were correct) to the report."""
    e2e = report.get("end_to_end", {})
    rate = e2e.get("lines_per_second") or 0.0
    seconds = e2e.get("seconds") or 0.0
    ratios: dict[str, float | None] = {}
    targets = []
    lines = e2e.get("lines", 0)
    targets.append(
        _target(
            "end-to-end lines/s",
            f">= {E2E_LINES_PER_SECOND:,} (1 M lines)",
            round(rate),
            rate >= E2E_LINES_PER_SECOND if rate else False,
        )
    )
    base = report.get("baselines", {})
    floor = base.get("raw_floor", {}).get("events_per_second")
    if floor:
        ratios["end_to_end_over_floor"] = rate / floor
        targets.append(
            _target(
                "end-to-end / raw floor",
                f">= {FLOOR_SHARE:.0%}",
                f"{rate / floor:.1%}",
                rate / floor >= FLOOR_SHARE,
            )
        )
    batch = base.get("batch_sql", {}).get("seconds")
    if batch:
        ratios["end_to_end_time_over_batch_time"] = seconds / batch if seconds else None
        met = bool(seconds) and seconds / batch <= BATCH_FACTOR
        shown = f"{seconds / batch:.1f}x" if seconds else "did not settle"
        targets.append(
            _target("end-to-end time / batch SQL time", f"<= {BATCH_FACTOR:.0f}x", shown, met)
        )
    fresh = report.get("freshness")
    if fresh:
        p99 = fresh.get("p99")
        met = p99 is not None and p99 <= FRESHNESS_P99
        shown = f"> {fresh['drain_timeout']:.0f} s (censored)" if p99 is None else round(p99, 3)
        targets.append(
            _target(
                f"freshness p99 at {fresh['offered_lines_per_second']:,.0f} lines/s",
                f"<= {FRESHNESS_P99:.0f} s",
                shown,
                met,
            )
        )
    for p in report.get("replay", []):
        big = p["events"] >= SMALL_PROJECTION
        targets.append(
            _target(
                f"replay {p['service']}.{p['projection']} events/s",
                f">= {REPLAY_EVENTS_PER_SECOND:,}" + ("" if big else " (n/a: few events)"),
                round(p["events_per_second"]),
                p["events_per_second"] >= REPLAY_EVENTS_PER_SECOND if big else None,
            )
        )
    for service, mb in (report.get("peak_rss_mb") or {}).items():
        targets.append(
            _target(
                f"peak RSS {service}",
                f"<= {RSS_MB} MB",
                None if mb is None else round(mb),
                mb is not None and mb <= RSS_MB,
            )
        )
    report["ratios"] = ratios
    report["targets"] = targets
    report["ok"] = bool(e2e.get("ok")) and bool(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.3f}" if value < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "-" if value is None else str(value)


def render(report: dict[str, Any], console: Console) -> None:
    e2e = report.get("end_to_end", {})
    t = Table(title=f"Channelstream benchmark {report['started_at']}", show_header=True)
    t.add_column("measure")
    t.add_column("value", justify="right")
    rows: list[tuple[str, Any]] = [
        ("lines (accepted)", f"{e2e.get('lines', 0):,} ({e2e.get('accepted', 0):,})"),
        ("upload seconds", e2e.get("upload_seconds")),
        ("end-to-end seconds (all views settled)", e2e.get("seconds")),
        ("end-to-end lines/s", e2e.get("lines_per_second")),
    ]
    rows += [(f"  {view} settled at s", at) for view, at in (e2e.get("settled_at") or {}).items()]
    used = report.get("cpu_end_to_end")
    if used:
        rows.append(("machine CPU busy during end to end", f"{used['machine_utilisation']:.0%}"))
        rows += [(f"  CPU µs per line: {k}", v) for k, v in used["per_line_us"].items()]
    base = report.get("baselines", {})
    if base:
        floor, batch = base["raw_floor"], base["batch_sql"]
        rows += [
            ("raw floor events/s", floor["events_per_second"]),
            *(
                (f"  CPU µs per floor event: {k}", v)
                for k, v in report.get("cpu_floor", {}).get("per_event_us", {}).items()
                if k in ("harness", "postgres", "kafka", "all (machine)")
            ),
            ("batch SQL seconds (COPY + SQL)", batch["seconds"]),
            ("batch SQL agrees with expected", batch["matches_expected"]),
        ]
    rows += [(f"ratio {k}", v) for k, v in report.get("ratios", {}).items()]
    fresh = report.get("freshness")
    if fresh:
        rows += [
            (
                "freshness offered / achieved lines/s",
                f"{fresh['offered_lines_per_second']:,.0f}"
                f" / {fresh['achieved_lines_per_second']:,.0f}",
            ),
            (
                "freshness p50 / p95 / p99 s",
                " / ".join(_fmt(fresh.get(p)) for p in ("p50", "p95", "p99")),
            ),
            ("freshness unresolved probes", fresh.get("unresolved")),
        ]
        rows += [
            (
                f"  {hop} p50 / p95 / p99 s",
                " / ".join(_fmt(q.get(p)) for p in ("p50", "p95", "p99")),
            )
            for hop, q in (fresh.get("hops") or {}).items()
        ]
    used = report.get("cpu_freshness")
    if used:
        rows.append(("machine CPU busy during freshness", f"{used['machine_utilisation']:.0%}"))
        rows += [
            (f"  CPU µs per line: {k}", v)
            for k, v in used["per_line_us"].items()
            if "postgres for" not in k and k not in ("onboarding", "dealreg", "registry")
        ]
    for p in report.get("replay", []):
        rows.append(
            (
                f"replay {p['service']}.{p['projection']} events/s",
                f"{p['events_per_second']:,.0f} ({p['events']:,} events)",
            )
        )
    for service, mb in (report.get("peak_rss_mb") or {}).items():
        rows.append((f"peak RSS {service} MB", mb))
    for name, value in rows:
        t.add_row(name, _fmt(value))
    console.print(t)
    targets = Table("target", "wanted", "measured", "met", title="Issue 9 targets")
    for tg in report.get("targets", []):
        met = {True: "[green]yes[/]", False: "[red]no[/]", None: "-"}[tg["met"]]
        targets.add_row(tg["name"], tg["target"], _fmt(tg["measured"]), met)
    console.print(targets)
    for check in e2e.get("checks", []):
        colour = "green" if check["ok"] else "red"
        console.print(f"[{colour}]{check['view']}[/]: {check['summary']}")
    for phase, profiles in (report.get("profiles") or {}).items():
        for profile in profiles:
            console.print(
                f"[bold]{phase} profile {profile['service']}[/] ({profile['samples']} samples)"
            )
            below_entry = [
                (f, share) for f, share in profile["inclusive"] if not f.endswith(ENTRY_POINTS)
            ]
            for frame, share in below_entry[:6]:
                console.print(f"  {share:6.1%}  {frame}")


def write(report: dict[str, Any], *paths: Path) -> None:
    text = json.dumps(report, indent=2, default=str)
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
