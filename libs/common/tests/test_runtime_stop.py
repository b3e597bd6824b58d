"""Runtime.stop releases clients and pool, also for a runtime that was never started, and runs
a service's background loops as its own bounded steps, before the outbox drain."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channelstream_common import runtime as runtime_module
from channelstream_common.runtime import Loop, Runtime, build_runtime
from channelstream_common.settings import Settings


async def test_a_runtime_built_and_never_started_releases_its_producer_at_stop() -> None:
    runtime = build_runtime(
        Settings(
            service="onboarding",
            kafka_bootstrap="127.0.0.1:1",  # nothing is contacted
            database_url="postgresql+psycopg://nobody@127.0.0.1:1/none",
        )
    )
    producer = runtime.publisher.producer
    assert not producer._closed
    await runtime.stop()
    assert producer._closed  # a replay's runtime warned "Unclosed AIOKafkaProducer" at exit
    await runtime.stop()  # released once: a second stop does nothing


class Part:
    """Stands in for one of the runtime's clients, writing its start and stop down in `calls`."""

    def __init__(self, name: str, calls: list[str]) -> None:
        self.name, self.calls = name, calls
        self.stores: list[object] = []
        self.settled: dict[object, int] = {}

    async def start(self) -> None:
        self.calls.append(f"start {self.name}")

    async def stop(self) -> None:
        self.calls.append(f"stop {self.name}")

    close = dispose = stop


class Relay(Part):
    def start(self, interval: float = 1.0) -> None:  # type: ignore[override]  # sync, as Outbox's
        self.calls.append(f"start {self.name}")

    async def flush(self) -> None:
        self.calls.append("drain outbox")


def fake_runtime(calls: list[str], monkeypatch: pytest.MonkeyPatch) -> Runtime:
    monkeypatch.setattr(runtime_module, "LagMonitor", lambda *a, **k: Relay("lag", calls))
    runtime: Any = Runtime(
        settings=Settings(service="sellthrough"),
        **{part: Part(part, calls) for part in ("app", "engine", "serde", "publisher", "stream")},
    )
    runtime.outbox = Relay("relay", calls)
    return runtime


def loop(name: str, calls: list[str], *, ignores_stop: asyncio.Event | None = None) -> Loop:
    async def run() -> None:
        calls.append(f"start {name}")
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if ignores_stop is None or ignores_stop.is_set():
                    calls.append(f"stop {name}")
                    raise

    return run


async def test_every_writer_of_the_outbox_stops_before_it_is_drained_loops_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    runtime = fake_runtime(calls, monkeypatch)
    runtime.background("sweeper", loop("sweeper", calls))
    runtime.background("reaper", loop("reaper", calls))

    await runtime.start()
    await asyncio.sleep(0)
    await runtime.stop()

    assert calls == [
        *("start publisher", "start stream", "start app", "start lag", "start relay"),
        *("start sweeper", "start reaper"),
        *("stop reaper", "stop sweeper"),
        *("stop app", "stop stream", "stop lag"),  # everything that stages events has stopped
        *("stop relay", "drain outbox"),  # so what they staged is published
        *("stop publisher", "stop serde", "stop engine"),
    ]


async def test_a_background_loop_that_ignores_stop_is_bounded_and_the_rest_still_stop(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(runtime_module, "STOP_STEP_SECONDS", 0.2)
    calls: list[str] = []
    released = asyncio.Event()
    runtime = fake_runtime(calls, monkeypatch)
    runtime.background("hold sweeper", loop("hold sweeper", calls, ignores_stop=released))
    await runtime.start()
    stubborn = runtime._tasks[0]

    await asyncio.wait_for(runtime.stop(), 5)

    assert "shutdown: hold sweeper did not finish within 0.2 s" in caplog.text
    assert calls[-3:] == ["stop publisher", "stop serde", "stop engine"]
    assert "drain outbox" in calls and not stubborn.done()
    released.set()
    stubborn.cancel()
    await asyncio.wait({stubborn}, timeout=5)
    assert stubborn.cancelled()


async def test_a_background_loop_that_dies_is_logged_when_it_does(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def dies() -> None:
        raise RuntimeError("database gone")

    runtime = fake_runtime([], monkeypatch)
    runtime.background("hold sweeper", dies)
    await runtime.start()
    await asyncio.sleep(0.01)
    assert "hold sweeper stopped: it raised" in caplog.text
    await runtime.stop()
