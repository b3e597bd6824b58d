"""However a bench run ends, its services are stopped before its topics and databases are
dropped: on an error, and on Ctrl-C, which `uv run` delivers twice."""

from __future__ import annotations

import asyncio
import os
import signal
from functools import partial
from pathlib import Path

import pytest
from channelstream_common.testing import Endpoints

from bench import cluster as cluster_module
from bench import runner
from bench.cluster import Cluster
from bench.runner import Config

ENDPOINTS = Endpoints("127.0.0.1:1", "http://127.0.0.1:1", "postgresql://127.0.0.1:1", "test")


class Services:
    """One service's ServiceSet, as far as the teardown sees it."""

    def __init__(self, name: str, calls: list[str]) -> None:
        self.name, self.calls = name, calls

    def down(self) -> dict[str, str]:
        self.calls.append(f"stop {self.name}")
        return {self.name: "stopped"}


class Admin:
    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    async def start(self) -> None: ...

    async def delete_topics(self, topics: list[str]) -> None:
        self.calls.append("delete topics")

    async def close(self) -> None: ...


@pytest.mark.parametrize("keep", [False, True])
async def test_teardown_stops_every_service_before_dropping_anything(
    monkeypatch: pytest.MonkeyPatch, keep: bool
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(
        cluster_module, "drop_database", lambda _, name: calls.append(f"drop {name}")
    )
    monkeypatch.setattr(cluster_module, "AIOKafkaAdminClient", lambda **_: Admin(calls))
    cluster = Cluster(ENDPOINTS, run_id="r1")
    cluster.sets = {n: Services(n, calls) for n in ("dealreg", "analytics")}
    cluster.databases = ["bench_r1_dealreg", "bench_r1_analytics"]

    await cluster.teardown(keep=keep)

    stops = ["stop dealreg", "stop analytics"]
    drops = ["drop bench_r1_dealreg", "drop bench_r1_analytics", "delete topics"]
    assert calls == stops + ([] if keep else drops)


class FakeCluster:
    """Stands in for bench.cluster.Cluster in a whole runner.run: records start, stop and
    teardown; its start raises, or sends the bench a Ctrl-C as `uv run` does, twice."""

    def __init__(self, endpoints: Endpoints, *, calls: list[str], on_start: str) -> None:
        self.endpoints, self.run_id, self.prefix, self.sets = endpoints, "r1", "benchr1.", {}
        self.calls, self.on_start = calls, on_start

    async def provision(self) -> None: ...

    async def start(self) -> None:
        self.calls.append("start")
        if self.on_start == "raise":
            raise RuntimeError("sellthrough exited during start-up")
        os.kill(os.getpid(), signal.SIGINT)  # the terminal's
        await asyncio.sleep(30)

    def stop(self) -> dict[str, str]:
        if self.on_start == "ctrl_c" and "stop services" not in self.calls:
            os.kill(os.getpid(), signal.SIGINT)  # uv's copy, while the first service stops
        self.calls.append("stop services")
        return {}

    async def teardown(self, *, keep: bool) -> None:
        self.stop()
        await asyncio.sleep(0.05)  # a Ctrl-C that cancelled this would leave the topics behind
        self.calls.append("drop topics and databases")


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("on_start", "raised"), [("ctrl_c", KeyboardInterrupt), ("raise", RuntimeError)]
)
async def test_a_run_ended_by_ctrl_c_twice_or_by_an_error_stops_its_services_then_drops(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, on_start: str, raised: type[BaseException]
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(runner, "Cluster", partial(FakeCluster, calls=calls, on_start=on_start))
    logged: list[str] = []
    handler = signal.getsignal(signal.SIGINT)
    config = Config(lines=20, out=tmp_path, skip=frozenset(runner.PHASES))

    with pytest.raises(raised):  # in this task: a KeyboardInterrupt must not leave it
        await runner.run(config, ENDPOINTS, log=logged.append)

    assert calls == ["start", "stop services", "stop services", "drop topics and databases"]
    assert not list(tmp_path.glob("*/data"))
    if on_start == "ctrl_c":
        assert logged[-2:] == [
            "interrupted: stopping the services, then dropping the run's topics and databases",
            "still stopping the services and dropping the run's topics and databases",
        ]
    assert signal.getsignal(signal.SIGINT) is handler
