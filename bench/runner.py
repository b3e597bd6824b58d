"""One benchmark run: dataset, services, the phases, and the report (a JSON-ready dict)."""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from channelstream_common import testing

from bench import baselines, cpu, dataset, endtoend, freshness, replaying
from bench.cluster import Cluster, load_average
from bench.cluster import endpoints as find_endpoints
from bench.profiling import Recorder
from bench.report import evaluate

OUT = Path(__file__).resolve().parent / "out"
PHASES = ("freshness", "baselines", "replay")
Progress = Callable[[str, int, int], None]
Log = Callable[[str], None]


@dataclass
class Config:
    lines: int = 1_000_000
    quick: bool = False
    freshness_rate: float = 2_000
    freshness_seconds: float = 60
    concurrency: int = 4
    file_lines: int = 5_000
    seed: int = 2026
    skip: frozenset[str] = frozenset()
    profile: bool = False
    keep: bool = False
    out: Path = OUT
    settle_timeout: float | None = None

    @classmethod
    def quick_mode(cls, **overrides: Any) -> Config:
        """10 000 lines (the issue's ≈50 000 take too long here: bench/RESULTS.md), 200 lines/s of
        freshness for 10 s; asserts correctness only."""
        base = {"lines": 10_000, "quick": True, "freshness_rate": 200, "freshness_seconds": 10}
        return cls(**{**base, **overrides})


@dataclass
class Run:
    config: Config
    stamp: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"))
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def dir(self) -> Path:
        return self.config.out / self.stamp


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        (
            int(line.split()[1]) // 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        ),
        None,
    )
    return {
        "nproc": os.cpu_count(),
        "memory_mb": mem,
        "cpu_model": cpu,
        "kernel": platform.release(),
        "python": sys.version.split()[0],
    }


async def run(
    config: Config,
    endpoints: testing.Endpoints | None = None,
    progress: Progress | None = None,
    log: Log = lambda _: None,
) -> dict[str, Any]:
    r = Run(config)
    r.dir.mkdir(parents=True, exist_ok=True)
    report = r.report
    report["started_at"] = r.stamp
    report["machine"] = machine()
    report["config"] = {
        k: str(v) if isinstance(v, Path) else sorted(v) if isinstance(v, frozenset) else v
        for k, v in asdict(config).items()
    }
    log(f"generating {config.lines:,} lines")
    ds = dataset.generate(
        r.dir / "data", config.lines, seed=config.seed, file_lines=config.file_lines
    )
    report["dataset"] = _describe(ds)
    cluster = Cluster(endpoints or find_endpoints())
    report["endpoints"] = cluster.endpoints.source
    report["run_id"] = cluster.run_id
    report["topic_prefix"] = cluster.prefix
    phases = _Phases(report, log)
    profiles: dict[str, Any] = {}
    if config.profile:
        report["profiles"] = profiles

    async def teardown() -> None:
        await cluster.teardown(keep=config.keep)
        if not config.keep:
            shutil.rmtree(r.dir / "data", ignore_errors=True)

    async with _finally(teardown, log):
        await _measure(r, cluster, ds, phases, profiles, progress)
    evaluate(report)
    return report


async def _measure(
    r: Run,
    cluster: Cluster,
    ds: dataset.Dataset,
    phases: _Phases,
    profiles: dict[str, Any],
    progress: Progress | None,
) -> None:
    config, report, log = r.config, r.report, phases.log
    try:
        log(f"provisioning topics under {cluster.prefix} and starting the five services")
        await cluster.provision()
        await cluster.start()
        floor_until = await _live_phases(r, cluster, ds, phases, profiles, progress)
        report["peak_rss_mb"] = cluster.peak_rss_mb()
        report["service_logs"] = {s: str(cluster.log(s)) for s in cluster.sets}
    finally:
        report["stopped"] = cluster.stop()
    if "baselines" not in config.skip:
        await _baselines(cluster, ds, phases, floor_until)
    if "replay" not in config.skip:
        log("replay of every projection from offset 0 (services stopped)")
        replayer: dict[str, int | None] = {"bench": os.getpid()}  # replays run here
        async with phases.run("replay"), _profiled(r, "replay", replayer, profiles):
            replays = await replaying.run(cluster, progress)
            report["replay"] = [
                asdict(p) | {"events_per_second": p.events_per_second} for p in replays
            ]
        report["load_average_replay"] = load_average()


@asynccontextmanager
async def _finally(teardown: Callable[[], Awaitable[None]], log: Log) -> AsyncIterator[None]:
    """Run `teardown` however the body ends. Ctrl-C cancels the body, once, and is ignored from
    then on and during the teardown, after which KeyboardInterrupt is raised. `uv run` forwards
    the terminal's SIGINT, so one Ctrl-C reaches the harness twice: under asyncio.run's handler
    the second raised KeyboardInterrupt inside the teardown, while it waited for the first
    service to stop, and left the other four running."""
    loop, task = asyncio.get_running_loop(), asyncio.current_task()
    assert task is not None
    interrupted = tearing_down = False

    def on_sigint() -> None:
        nonlocal interrupted
        if interrupted or tearing_down:
            log("still stopping the services and dropping the run's topics and databases")
            return
        interrupted = True
        log("interrupted: stopping the services, then dropping the run's topics and databases")
        task.cancel()

    previous = signal.getsignal(signal.SIGINT)
    loop.add_signal_handler(signal.SIGINT, on_sigint)
    try:
        yield
    except asyncio.CancelledError:
        if interrupted:
            raise KeyboardInterrupt from None
        raise
    finally:
        tearing_down = True
        try:
            await teardown()
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            signal.signal(signal.SIGINT, previous)  # asyncio.run's, which it restores at exit


def _cpu(used: cpu.CpuUsage, count: int, per: str = "per_line_us") -> dict[str, Any]:
    return asdict(used) | {
        "machine_utilisation": used.machine_utilisation,
        per: used.per_line_us(count),
    }


async def _baselines(
    cluster: Cluster, ds: dataset.Dataset, phases: _Phases, until: dict[int, int] | None
) -> None:
    """With the services stopped, like the replays: a baseline sharing the cores with services
    still settling (autovacuum, relays, lag polls) measured 4 000-12 000 events/s for the same
    floor, which made the ratios noise."""
    report, log = phases.report, phases.log
    async with phases.run("baselines"):
        log("baseline (a): raw single-hop floor (services stopped)")
        with cpu.measured({}) as used:  # the floor's consumer runs in the harness
            floor = await baselines.raw_floor(cluster, until)
        report["baselines"] = {
            "raw_floor": asdict(floor) | {"events_per_second": floor.events_per_second}
        }
        report["cpu_floor"] = _cpu(used, floor.events, "per_event_us")
        log("baseline (b): batch SQL")
        batch = await baselines.batch_sql(cluster, ds)
        report["baselines"]["batch_sql"] = asdict(batch) | {"seconds": batch.seconds}
    report["load_average_baselines"] = load_average()


def _describe(ds: dataset.Dataset) -> dict[str, Any]:
    ex = ds.expected
    return {
        "lines": ex.lines + ex.rejected,
        "accepted": ex.lines,
        "rejected": ex.rejected,
        "net_units": ex.units,
        "files": len(ds.reports),
        "distributors": len(ds.distributors),
        "resellers": len(ds.resellers),
        "deals": len(ds.deals),
        "deal_bonus_lines": ex.bonus_lines,
        "rebate_total": str(ex.rebate_total()),
    }


async def _live_phases(
    r: Run,
    cluster: Cluster,
    ds: dataset.Dataset,
    phases: _Phases,
    profiles: dict[str, Any],
    progress: Progress | None,
) -> dict[int, int]:
    """End to end and freshness, while the services run; returns where the end-to-end events
    end on the SellThroughReported topic (the floor reads those, after the services stop)."""
    config, report, log = r.config, r.report, phases.log
    report["load_average_start"] = load_average()
    pids = {s: cluster.pid(s) for s in cluster.sets}
    log("end to end")
    async with phases.run("end_to_end"), _profiled(r, "end_to_end", pids, profiles):
        timeout = config.settle_timeout or max(300.0, config.lines / 100)
        with cpu.measured(pids) as used:
            e2e = await endtoend.run(
                cluster,
                ds,
                concurrency=config.concurrency,
                settle_timeout=timeout,
                progress=progress,
            )
        report["end_to_end"] = asdict(e2e) | {"lines_per_second": e2e.lines_per_second}
        report["cpu_end_to_end"] = _cpu(used, e2e.lines)
        if not e2e.ok:
            log("the views did not settle to the expected totals; see the checks")
    report["load_average_end_to_end"] = load_average()
    floor_until = await baselines.end_offsets(cluster)
    if "freshness" not in config.skip:
        rate, secs = config.freshness_rate, config.freshness_seconds
        log(f"freshness at {rate:,.0f} lines/s for {secs}s")
        async with phases.run("freshness"), _profiled(r, "freshness", pids, profiles):
            with cpu.measured(pids) as used:
                fresh = await freshness.run(
                    cluster,
                    ds,
                    lines_per_second=rate,
                    seconds=secs,
                    since=floor_until,
                    progress=progress,
                )
            report["freshness"] = asdict(fresh) | fresh.summary()
            del report["freshness"]["latencies"]
            report["cpu_freshness"] = _cpu(used, fresh.sent_lines)
        report["load_average_freshness"] = load_average()
    return floor_until


@dataclass
class _Phases:
    """A phase that fails is recorded in report["errors"] and the run goes on: the figures of
    the other phases are still worth having."""

    report: dict[str, Any]
    log: Log

    @asynccontextmanager
    async def run(self, name: str) -> AsyncIterator[None]:
        try:
            yield
        except Exception as exc:
            detail = f"{type(exc).__name__}: {exc}"
            self.report.setdefault("errors", {})[name] = detail
            self.log(f"{name} failed: {detail}")


@asynccontextmanager
async def _profiled(
    run: Run, phase: str, pids: dict[str, int | None], into: dict[str, Any]
) -> AsyncIterator[None]:
    if not run.config.profile:
        yield
        return
    recorder = Recorder(run.dir / "profiles" / phase, pids)
    recorder.start()
    try:
        yield
    finally:
        into[phase] = [asdict(p) for p in recorder.stop()]
