"""Replay: each projection of each service rebuilt from offset 0 into a fresh database with the
shared replay engine (as `channelstream replay` does), one projection at a time so each has its
own events/s."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from channelstream_cli.services import SERVICES
from channelstream_common import replay
from channelstream_common.settings import Settings

from bench.cluster import Cluster

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ProjectionReplay:
    service: str
    projection: str
    events: int
    applied: int
    seconds: float
    dead_lettered: int

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def replay_service(
    cluster: Cluster, service: str, progress: Progress | None = None
) -> list[ProjectionReplay]:
    settings = Settings(
        service=service,
        kafka_bootstrap=cluster.endpoints.kafka,
        schema_registry_url=cluster.endpoints.registry,
        database_url=cluster.database(f"replay_{service}"),
        topic_prefix=cluster.prefix,
        log_json=False,
    )
    runtime = importlib.import_module(f"{service}.bootstrap").bootstrap(settings).runtime
    every = list(runtime.projections)
    out = []
    try:
        for spec in every:
            runtime.projections = [spec]
            name = f"{service}.{spec.name}"

            def report(done: int, total: int, name: str = name) -> None:
                if progress:
                    progress(name, done, total)

            r = await replay.rebuild(runtime, progress=report)
            out.append(
                ProjectionReplay(
                    service, spec.name, r.events, r.applied, r.seconds, r.dead_lettered
                )
            )
    finally:
        runtime.projections = every
        await runtime.stop()
    return out


async def run(cluster: Cluster, progress: Progress | None = None) -> list[ProjectionReplay]:
    out: list[ProjectionReplay] = []
    for service in SERVICES:
        out += await replay_service(cluster, service, progress)
    return out
