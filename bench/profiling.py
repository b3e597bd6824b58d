"""Sampling profiles of the service processes with py-spy (no change to the services): started
before a phase, stopped with SIGINT after it, summarised as the hottest functions."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_PACKAGES = (
    "channelstream_common/",
    "onboarding/",
    "dealreg/",
    "sellthrough/",
    "incentives/",
    "analytics/",
)


@dataclass
class Profile:
    service: str
    path: Path
    samples: int = 0
    inclusive: list[tuple[str, float]] = field(default_factory=list)  # project frames, share
    packages: list[tuple[str, float]] = field(default_factory=list)  # top-level package, share
    leaf: list[tuple[str, float]] = field(default_factory=list)  # any frame, self share


def py_spy() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


class Recorder:
    def __init__(self, out: Path, pids: dict[str, int | None], rate: int = 50) -> None:
        self.out = out
        self.pids = {k: v for k, v in pids.items() if v}
        self.rate = rate
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self) -> None:
        exe = py_spy()
        if exe is None:
            raise RuntimeError("py-spy is not installed (uv sync installs the dev group)")
        self.out.mkdir(parents=True, exist_ok=True)
        for name, pid in self.pids.items():
            self.procs[name] = subprocess.Popen(
                [
                    exe,
                    "record",
                    "--pid",
                    str(pid),
                    "--rate",
                    str(self.rate),
                    "--nonblocking",
                    "--format",
                    "raw",
                    "--output",
                    str(self.out / f"{name}.txt"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=(self.out / f"{name}.py-spy.log").open("wb"),
            )

    def stop(self) -> list[Profile]:
        for proc in self.procs.values():
            proc.send_signal(signal.SIGINT)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        return [summarise(name, self.out / f"{name}.txt") for name in self.procs]


def _frame(text: str) -> str:
    """'Outbox.flush (channelstream_common/outbox.py:140)'
    -> 'channelstream_common/outbox.py:Outbox.flush'."""
    name, _, where = text.partition(" (")
    return f"{where.rstrip(')').rsplit(':', 1)[0]}:{name}"


def _package(frame: str) -> str:
    return frame.split("/", 1)[0] if "/" in frame else frame.split(":", 1)[0]


def summarise(service: str, path: Path, top: int = 20) -> Profile:
    """Shares of the non-idle samples: project functions inclusive (the hot paths), packages
    inclusive (where the time goes: psycopg, opentelemetry, fastavro...), and leaf functions."""
    profile = Profile(service, path)
    if not path.exists():
        return profile
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_frame(f) for f in stack.split(";") if " (" in f]
        if not frames:
            continue
        profile.samples += n
        leaf[frames[-1]] += n
        for f in set(frames):
            if f.startswith(PROJECT_PACKAGES):
                inclusive[f] += n
        for pkg in {_package(f) for f in frames[1:]}:
            packages[pkg] += n
    total = profile.samples or 1
    profile.inclusive = [(f, n / total) for f, n in inclusive.most_common(top)]
    profile.packages = [(f, n / total) for f, n in packages.most_common(top)]
    profile.leaf = [(f, n / total) for f, n in leaf.most_common(top)]
    return profile
