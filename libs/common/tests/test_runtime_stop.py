"""Runtime.stop releases clients and pool, also for a runtime that was never started."""

from __future__ import annotations

from channelstream_common.runtime import build_runtime
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
