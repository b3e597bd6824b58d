"""Shared integration fixtures: the real Kafka, registry and PostgreSQL, isolated per test run."""

from __future__ import annotations

import asyncio
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from types import FrameType

import pytest
from channelstream_common import testing
from channelstream_common.admin import ensure_topics, register_schemas
from channelstream_common.serde import AvroSerde
from channelstream_common.settings import Settings


def _print_tasks(signum: int, frame: FrameType | None) -> None:
    """`kill -USR1 <pytest pid>`: every asyncio task's stack, for a hung test or teardown
    (pytest-timeout shows the threads, where a hung coroutine is only the loop's select)."""
    try:  # the loop running now (pytest-asyncio runs teardowns on a Runner's own loop)
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.print_stack(file=sys.stderr)


signal.signal(signal.SIGUSR1, _print_tasks)


@pytest.fixture(scope="session")
def endpoints() -> Iterator[testing.Endpoints]:
    with testing.endpoints() as found:
        yield found


@pytest.fixture(scope="session")
def topic_prefix() -> str:
    return testing.unique_prefix()


@pytest.fixture(scope="session")
async def provisioned(endpoints: testing.Endpoints, topic_prefix: str) -> AsyncIterator[None]:
    """Every registry topic exists (under this run's prefix) and every schema is registered."""
    await ensure_topics(endpoints.kafka, topic_prefix)
    serde = AvroSerde(endpoints.registry, topic_prefix)
    await register_schemas(serde)
    yield


@pytest.fixture
async def isolated_prefix(endpoints: testing.Endpoints) -> str:
    """Topics (and so consumer groups) of this test alone: no backlog from other tests."""
    return await testing.provision(endpoints, testing.unique_prefix())


@contextmanager
def _fresh_settings(
    endpoints: testing.Endpoints, topic_prefix: str
) -> Iterator[Callable[..., Settings]]:
    """`make(service, **overrides)`: Settings against a fresh database of its own; every database
    made is dropped on leaving. Left behind, a run's few hundred databases kept PostgreSQL's
    autovacuum busy on a developer's stack."""
    created: list[str] = []

    def make(service: str, **overrides: object) -> Settings:
        db = f"{service}_{topic_prefix.strip('.')}_{uuid.uuid4().hex[:6]}"
        url = testing.create_database(endpoints.postgres, db)
        created.append(db)
        base = Settings(
            service=service,
            kafka_bootstrap=endpoints.kafka,
            schema_registry_url=endpoints.registry,
            database_url=url,
            topic_prefix=topic_prefix,
            log_json=False,
        )
        return Settings(**{**base.__dict__, **overrides})  # type: ignore[arg-type]

    try:
        yield make
    finally:
        for db in created:
            testing.drop_database(endpoints.postgres, db)


@pytest.fixture
def settings_for(
    endpoints: testing.Endpoints, topic_prefix: str
) -> Iterator[Callable[..., Settings]]:
    """Settings for one service against a fresh database of its own, dropped after the test
    (the services using it are stopped first: their fixtures depend on this one)."""
    with _fresh_settings(endpoints, topic_prefix) as make:
        yield make


@pytest.fixture(scope="module")
def module_settings_for(
    endpoints: testing.Endpoints, topic_prefix: str
) -> Iterator[Callable[..., Settings]]:
    """settings_for for module-scoped fixtures: the databases are dropped after the module."""
    with _fresh_settings(endpoints, topic_prefix) as make:
        yield make


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that stop and restart the stack run after everything that needs it."""
    items.sort(key=lambda item: item.get_closest_marker("stack_lifecycle") is not None)
