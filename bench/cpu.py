"""Where the cores go during a phase: CPU seconds of each service process, of Kafka, the
registry and PostgreSQL (all its processes, exited backends included via the postmaster's
reaped-children counters), of the harness, and of the whole machine (busy vs idle).

Per-line CPU (µs) is what a throughput figure on a saturated machine is made of: the sum over
components is the cost of one line, and a component's share says which fix pays."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from channelstream_cli import stack

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from 3 (state) on


def _own(pid: int | None) -> float:
    """utime + stime of a process, seconds."""
    f = _stat(pid) if pid else None
    return (int(f[11]) + int(f[12])) / TICK if f else 0.0


def _postgres_processes() -> dict[int, list[str]]:
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    f = _stat(int(entry.name))
                    if f is not None:
                        stats[int(entry.name)] = f
            except OSError:
                continue
    return stats


def _postgres() -> float:
    """Every live postgres process, plus what the postmaster reaped (cutime + cstime)."""
    stats = _postgres_processes()
    total = 0.0
    for f in stats.values():
        total += (int(f[11]) + int(f[12])) / TICK
        if int(f[1]) not in stats:  # the postmaster: its parent is not postgres
            total += (int(f[13]) + int(f[14])) / TICK
    return total


def _backends() -> dict[int, tuple[str, float]]:
    """pid -> (database, CPU seconds) of live backends and autovacuum workers (their titles
    name the database: `postgres: user db host(port) state`, `... autovacuum worker db`)."""
    out = {}
    for pid, f in _postgres_processes().items():
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        words = title.split()
        if len(words) >= 4 and words[1:3] == ["autovacuum", "worker"]:
            db = words[3]
        elif len(words) >= 3 and words[0] == "postgres:" and "(" in title:
            db = words[2]
        else:
            continue
        out[pid] = (db, (int(f[11]) + int(f[12])) / TICK)
    return out


def _by_database(
    start: dict[int, tuple[str, float]], end: dict[int, tuple[str, float]]
) -> dict[str, float]:
    """CPU per database between two samples; a backend gone by the end counts nothing (so
    these are lower bounds; the postgres total includes everything)."""
    out: dict[str, float] = {}
    for pid, (db, cpu) in end.items():
        before = start.get(pid)
        used = cpu - before[1] if before and before[0] == db else cpu
        out[db] = out.get(db, 0.0) + used
    return out


def _machine() -> tuple[float, float, float]:
    """(busy, total, stolen) CPU seconds of the whole machine since boot; stolen is time the
    hypervisor gave this VM's CPUs to others (part of busy: on a shared host it makes every
    component look slower, so it is reported beside the per-line figures)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return (total - idle) / TICK, total / TICK, values[7] / TICK


def _infrastructure() -> dict[str, int | None]:
    run = stack._paths().run
    return {name: stack._read_pid(run / f"{name}.pid") for name in ("kafka", "registry")}


@dataclass
class CpuUsage:
    seconds: float = 0.0
    by_component: dict[str, float] = field(default_factory=dict)
    machine_busy: float = 0.0
    machine_total: float = 0.0
    machine_stolen: float = 0.0

    @property
    def machine_utilisation(self) -> float:
        return self.machine_busy / self.machine_total if self.machine_total else 0.0

    def per_line_us(self, lines: int) -> dict[str, float]:
        if not lines:
            return {}
        out = {k: round(v / lines * 1e6, 1) for k, v in self.by_component.items()}
        out["all (machine)"] = round(self.machine_busy / lines * 1e6, 1)
        out["stolen (machine)"] = round(self.machine_stolen / lines * 1e6, 1)
        return out


def _sample(pids: Mapping[str, int | None]) -> dict[str, float]:
    out = {name: _own(pid) for name, pid in pids.items()}
    out["postgres"] = _postgres()
    return out


@contextmanager
def measured(services: Mapping[str, int | None]) -> Iterator[CpuUsage]:
    """CPU used by each component while the block runs (fills the yielded CpuUsage at exit)."""
    pids = {**services, **_infrastructure(), "harness": os.getpid()}
    usage = CpuUsage()
    start, (busy0, total0, stolen0), dbs0 = _sample(pids), _machine(), _backends()
    started = time.monotonic()
    try:
        yield usage
    finally:
        end, (busy1, total1, stolen1), dbs1 = _sample(pids), _machine(), _backends()
        usage.seconds = time.monotonic() - started
        usage.by_component = {k: round(end[k] - start[k], 2) for k in end}
        for db, used in sorted(_by_database(dbs0, dbs1).items()):
            service = next((s for s in services if db.endswith(f"_{s}")), None)
            if service and used >= 0.01:
                usage.by_component[f"postgres for {service}"] = round(used, 2)
        usage.machine_busy, usage.machine_total = round(busy1 - busy0, 2), round(total1 - total0, 2)
        usage.machine_stolen = round(stolen1 - stolen0, 2)
