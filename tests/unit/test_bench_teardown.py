"""A bench run's services are stopped before its topics and databases are dropped."""

from __future__ import annotations

import pytest
from channelstream_common.testing import Endpoints

from bench import cluster as cluster_module
from bench.cluster import Cluster

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
