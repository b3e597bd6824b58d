"""The five services as separate local processes (pid files and logs under .stack/).

`ServiceSet` lets tests run an isolated set (own ports, databases, topic prefix) beside the
default one that `channelstream services up` and the demo use.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from channelstream_cli import stack
from channelstream_cli.client import DEFAULT_PORTS

SERVICES = tuple(DEFAULT_PORTS)


@dataclass
class ServiceSet:
    tag: str = ""
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    env: dict[str, str] = field(default_factory=dict)
    names: tuple[str, ...] = SERVICES

    def __post_init__(self) -> None:
        self.paths = stack.Paths(stack.repo_root())

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def pidfile(self, name: str) -> Path:
        return self.paths.run / f"service-{self.tag}{name}.pid"

    def log(self, name: str) -> Path:
        return self.paths.logs / f"{self.tag}{name}.log"

    def ready(self, name: str) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url(name)}/health/ready", timeout=2) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    def up(self, timeout: float = 120) -> dict[str, str]:
        self.paths.run.mkdir(parents=True, exist_ok=True)
        self.paths.logs.mkdir(parents=True, exist_ok=True)
        result: dict[str, str] = {}
        for name in self.names:
            if stack._read_pid(self.pidfile(name)):
                result[name] = "already running"
                continue
            exe = Path(sys.executable).parent / f"channelstream-{name}"
            env = {**os.environ, **self.env, "CHANNELSTREAM_HTTP_PORT": str(self.ports[name])}
            with self.log(name).open("ab") as out:
                proc = subprocess.Popen(
                    [str(exe)],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=env,
                    start_new_session=True,
                )
            self.pidfile(name).write_text(str(proc.pid))
            result[name] = "started"
        deadline = time.monotonic() + timeout
        for name in self.names:
            while not self.ready(name):
                if stack._read_pid(self.pidfile(name)) is None:
                    raise stack.StackError(f"{name} exited during start-up; see {self.log(name)}")
                if time.monotonic() > deadline:
                    raise stack.StackError(
                        f"{name} not ready after {timeout:.0f}s; see {self.log(name)}"
                    )
                time.sleep(0.5)
        return result

    def down(self) -> dict[str, str]:
        return {
            n: "stopped" if stack._stop_pid(self.pidfile(n)) else "not running" for n in self.names
        }

    def status(self) -> dict[str, str]:
        out = {}
        for n in self.names:
            pid = stack._read_pid(self.pidfile(n))
            state = "ready" if pid and self.ready(n) else "not ready"
            out[n] = "stopped" if pid is None else f"running (pid {pid}) {state} at {self.url(n)}"
        return out


def default() -> ServiceSet:
    from channelstream_cli.client import base_url

    ports = {n: int(base_url(n).rsplit(":", 1)[1]) for n in SERVICES}
    return ServiceSet(ports=ports)


def up() -> dict[str, str]:
    return default().up()


def down() -> dict[str, str]:
    return default().down()


def status() -> dict[str, str]:
    return default().status()
