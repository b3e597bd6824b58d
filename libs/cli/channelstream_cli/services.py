"""The five services as separate local processes (pid files and logs under .stack/)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from channelstream_cli import stack
from channelstream_cli.client import DEFAULT_PORTS, base_url

SERVICES = tuple(DEFAULT_PORTS)


def _pidfile(paths: stack.Paths, name: str) -> Path:
    return paths.run / f"service-{name}.pid"


def ready(name: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url(name)}/health/ready", timeout=2) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def up(names: tuple[str, ...] = SERVICES, timeout: float = 120) -> dict[str, str]:
    paths = stack.Paths(stack.repo_root())
    paths.run.mkdir(parents=True, exist_ok=True)
    paths.logs.mkdir(parents=True, exist_ok=True)
    result: dict[str, str] = {}
    for name in names:
        pidfile = _pidfile(paths, name)
        if stack._read_pid(pidfile):
            result[name] = "already running"
            continue
        exe = Path(sys.executable).parent / f"channelstream-{name}"
        env = {**os.environ, "CHANNELSTREAM_HTTP_PORT": str(DEFAULT_PORTS[name])}
        log = paths.logs / f"{name}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [str(exe)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        pidfile.write_text(str(proc.pid))
        result[name] = "started"
    deadline = time.monotonic() + timeout
    for name in names:
        while not ready(name):
            if stack._read_pid(_pidfile(paths, name)) is None:
                raise stack.StackError(
                    f"{name} exited during start-up; see {paths.logs / (name + '.log')}"
                )
            if time.monotonic() > deadline:
                raise stack.StackError(f"{name} not ready after {timeout:.0f}s")
            time.sleep(0.5)
    return result


def down(names: tuple[str, ...] = SERVICES) -> dict[str, str]:
    paths = stack.Paths(stack.repo_root())
    return {n: "stopped" if stack._stop_pid(_pidfile(paths, n)) else "not running" for n in names}


def status(names: tuple[str, ...] = SERVICES) -> dict[str, str]:
    paths = stack.Paths(stack.repo_root())
    out = {}
    for n in names:
        pid = stack._read_pid(_pidfile(paths, n))
        out[n] = (
            "stopped"
            if pid is None
            else (f"running (pid {pid}) {'ready' if ready(n) else 'not ready'} at {base_url(n)}")
        )
    return out
