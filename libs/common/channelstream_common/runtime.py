"""What every service is made of, built in one place by its bootstrap: settings, database engine,
serde, publisher, the projection stream, the Faust app serving HTTP with health and metrics."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from channelstream_common import metrics, migrations, tasks, telemetry
from channelstream_common.consumer import BatchApplier
from channelstream_common.db import make_engine, reading
from channelstream_common.faust_app import create_app
from channelstream_common.kafka_security import client_kwargs
from channelstream_common.lag import LagMonitor
from channelstream_common.outbox import Outbox
from channelstream_common.projection import Handler, ProjectionStore
from channelstream_common.publisher import EventPublisher
from channelstream_common.serde import AvroSerde
from channelstream_common.settings import ConfigError, Settings
from channelstream_common.stream import ProjectionStream, consumer_group
from channelstream_common.topics import Topic

ReadyCheck = Callable[[], Awaitable[bool]]
Loop = Callable[[], Coroutine[Any, Any, None]]
# per step: the whole stop stays inside Kubernetes' default 30 s grace before SIGKILL in the
# usual case of at most one stalled step
STOP_STEP_SECONDS = 10.0
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProjectionSpec:
    """What a replay needs to rebuild one projection: its input topics, handler and tables."""

    name: str
    topics: tuple[Topic, ...]
    handler: Handler
    tables: tuple[str, ...] = ()


@dataclass
class Runtime:
    settings: Settings
    app: faust.App
    engine: AsyncEngine
    serde: AvroSerde
    publisher: EventPublisher
    stream: ProjectionStream
    ready_checks: list[ReadyCheck] = field(default_factory=list)
    projections: list[ProjectionSpec] = field(default_factory=list)
    migrations_dir: Path | None = None
    _started: bool = False
    _released: bool = False
    lag: LagMonitor | None = None
    outbox: Outbox | None = None
    relay_interval: float = 1.0
    loops: list[tuple[str, Loop]] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def service(self) -> str:
        return self.settings.service

    def projection(
        self,
        name: str,
        topics: Sequence[Topic],
        handler: Handler,
        *,
        tables: Sequence[str] = (),
    ) -> ProjectionStore:
        """Apply `topics` to `handler` in batches, positions in the same transaction.

        `tables` names the tables this projection alone writes; replays compare them.
        """
        self.projections.append(ProjectionSpec(name, tuple(topics), handler, tuple(tables)))
        store = ProjectionStore(self.engine, name)
        applier = BatchApplier(self.service, store, handler, self.serde, topics, self.publisher)
        self.stream.add(applier, [t.full_name(self.serde.prefix) for t in topics])
        return store

    def transactional_outbox(self, relay_interval: float = 1.0) -> Outbox:
        """The service's outbox. start() starts its relay (polling every `relay_interval` s
        when not kicked); stop() ends the relay and publishes what is still staged."""
        self.outbox = Outbox(self.engine, self.publisher)
        self.relay_interval = relay_interval
        return self.outbox

    def background(self, name: str, loop: Loop) -> None:
        """Run `loop`, a service's own periodic work (e.g. a sweeper), as a task named `name`.
        start() starts it after everything else; stop() ends it first, as its own bounded step,
        before the relay stops and the outbox is drained (as it ends the web app and the stream),
        so what it staged is still published."""
        self.loops.append((name, loop))

    async def start(self) -> None:
        """Start publisher, projection stream, the Faust app (web), the outbox relay, then the
        background loops."""
        await self.publisher.start()
        await self.stream.start()
        await self.app.start()
        self.lag = LagMonitor(
            self.service,
            self.settings.kafka_bootstrap,
            self.stream.stores,
            security=client_kwargs(self.settings),
            settled=self.stream.settled,
        )
        self.lag.start()
        if self.outbox:
            self.outbox.start(self.relay_interval)
        for name, loop in self.loops:
            task = asyncio.create_task(loop(), name=name)
            task.add_done_callback(_report_failure)
            self._tasks.append(task)
        self._started = True

    async def stop(self) -> None:
        """Stop what start() started, then release the clients and the pool, also when the
        runtime was built and never started (a replay's): its producer exists from the start."""
        steps: list[tasks.Step] = []
        if self._started:
            # whatever stages events (loops, HTTP handlers, projections) stops before the drain
            steps += [(t.get_name(), partial(tasks.cancel_and_wait, t)) for t in self._tasks[::-1]]
            self._tasks.clear()
            steps += [("web app", self.app.stop), ("projection stream", self.stream.stop)]
            if self.lag:
                steps.append(("lag monitor", self.lag.stop))
            if self.outbox:
                # best effort: what is not published now, any replica's relay publishes later
                steps += [("outbox relay", self.outbox.stop), ("outbox drain", self.outbox.flush)]
        if not self._released:
            steps += [
                ("publisher", self.publisher.stop),
                ("schema registry client", self.serde.close),
                ("database pool", self.engine.dispose),
            ]
        await tasks.stop_in_turn(steps, within=STOP_STEP_SECONDS)
        self._started, self._released = False, True

    async def database_ok(self) -> bool:
        try:
            async with reading(self.engine) as conn:
                await asyncio.wait_for(conn.execute(text("select 1")), timeout=2)
            metrics.DB_UP.labels(self.service).set(1)
            return True
        except Exception:
            metrics.DB_UP.labels(self.service).set(0)
            return False

    async def kafka_ok(self) -> bool:
        client = self.publisher.producer.client
        try:
            return bool(await asyncio.wait_for(client.fetch_all_metadata(), timeout=3))
        except Exception:
            return False


def _report_failure(task: asyncio.Task[None]) -> None:
    # cancel_and_wait retrieves the error at stop without a word: a loop that died is told now
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("%s stopped: it raised", task.get_name(), exc_info=exc)


def build_runtime(settings: Settings, *, migrations_dir: Path | None = None) -> Runtime:
    """Wire a service. Runs its Alembic migrations first when `migrations_dir` is given."""
    if migrations_dir is not None:
        migrations.upgrade(settings.database_url, migrations_dir)
    serde = AvroSerde(settings.schema_registry_url, settings.topic_prefix)
    runtime = Runtime(
        settings=settings,
        app=create_app(settings),
        engine=make_engine(settings.database_url, pool_size=settings.db_pool_size),
        serde=serde,
        publisher=EventPublisher(
            settings.kafka_bootstrap, serde, settings.service, security=client_kwargs(settings)
        ),
        stream=ProjectionStream(
            consumer_group(settings),
            settings.kafka_bootstrap,
            security=client_kwargs(settings),
        ),
        migrations_dir=migrations_dir,
    )
    _health_routes(runtime)
    # Faust binds aiohttp's Application class at import, so the instrumentor's class patch never
    # reaches it: add the official server middleware to the web app directly
    if telemetry.tracing_configured():
        from opentelemetry import trace
        from opentelemetry.instrumentation.aiohttp_server import create_aiohttp_middleware

        middleware = create_aiohttp_middleware(trace.get_tracer_provider())
        runtime.app.web.web_app.middlewares.append(middleware)  # type: ignore[attr-defined]
    return runtime


def _health_routes(rt: Runtime) -> None:
    @rt.app.page("/health/live")
    async def live(web: Any, request: Any) -> Any:
        return web.json({"status": "alive", "service": rt.service})

    @rt.app.page("/health/ready")
    async def ready(web: Any, request: Any) -> Any:
        checks = {
            "database": await rt.database_ok(),
            "kafka": await rt.kafka_ok(),
            "caught_up": rt.lag is not None and rt.lag.caught_up,
        }
        for check in rt.ready_checks:
            checks[getattr(check, "__name__", "check")] = await check()
        ok = all(checks.values())
        return web.json({"ready": ok, "checks": checks}, status=200 if ok else 503)

    @rt.app.page("/metrics")
    async def prom(web: Any, request: Any) -> Any:
        return web.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])


def serve(start: Callable[[], Awaitable[Any]], stop: Callable[[], Awaitable[Any]]) -> None:
    """Run a service until SIGTERM/SIGINT, then stop it gracefully (Faust commits offsets)."""
    import signal

    async def main() -> None:
        done = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, done.set)
        await start()
        try:
            await done.wait()
        finally:
            await stop()

    asyncio.run(main())


class Startable(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


GC_THRESHOLDS = (50_000, 20, 100)


def tune_gc() -> None:
    """Fewer, larger young collections and the start-up heap out of the collector's sight: a
    5 000-record batch allocates ~150 000 objects, which with the default thresholds (700, 10,
    10) set off a collection every few records and full ones traversing the whole heap (~20 %
    of decode time in bench/RESULTS.md). Cycles are still collected."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def run_service(service: str, default_port: int, build: Callable[[Settings], Startable]) -> None:
    """The whole `main()` of a service: settings from the environment, telemetry, then run
    until SIGTERM/SIGINT. `build` runs inside the event loop, so Faust and aiokafka bind to it.
    A ConfigError (from the settings, or from `build` reading its own before it connects
    anything) ends the process with a one-line message and exit status 2."""
    try:
        _run_service(service, default_port, build)
    except ConfigError as exc:
        print(f"error: {service}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _run_service(service: str, default_port: int, build: Callable[[Settings], Startable]) -> None:
    from channelstream_common import telemetry

    settings = Settings.from_env(service, default_port=default_port)
    telemetry.setup(settings)
    running: list[Startable] = []

    async def start() -> None:
        running.append(build(settings))
        await running[-1].start()
        tune_gc()

    async def stop() -> None:
        while running:
            await running.pop().stop()

    serve(start, stop)
