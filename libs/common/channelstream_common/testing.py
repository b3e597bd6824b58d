"""Endpoints for integration tests, in this order: environment variables, testcontainers when a
Docker engine is reachable, else the project's local stack (`channelstream stack up`)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from channelstream_common.db import create_database as create_database  # re-exported
from channelstream_common.db import drop_database as drop_database

T = TypeVar("T")


@dataclass(frozen=True)
class Endpoints:
    kafka: str
    registry: str
    postgres: str  # server URL without a database name
    source: str


def _from_env() -> Endpoints | None:
    names = ("KAFKA_BOOTSTRAP", "SCHEMA_REGISTRY_URL", "POSTGRES_URL")
    values = [os.environ.get(f"CHANNELSTREAM_{n}") for n in names]
    if all(values) and os.environ.get("CHANNELSTREAM_TEST_ENDPOINTS", "") != "ignore":
        kafka, registry, postgres = (str(v) for v in values)
        return Endpoints(kafka, registry, postgres.rstrip("/"), "environment")
    return None


def _docker_reachable() -> bool:
    if os.environ.get("CHANNELSTREAM_NO_DOCKER"):
        return False
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


@contextmanager
def _containers() -> Iterator[Endpoints]:
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    with ExitStack() as stack:
        kafka = stack.enter_context(KafkaContainer("apache/kafka:4.1.2").with_kraft())
        pg = stack.enter_context(
            PostgresContainer(
                "postgres:16", username="channelstream", password="channelstream", driver="psycopg"
            )
        )
        reg = stack.enter_context(
            DockerContainer("apicurio/apicurio-registry:3.0.9").with_exposed_ports(8080)
        )
        wait_for_logs(reg, "Installed features", timeout=120)
        registry = (
            f"http://{reg.get_container_host_ip()}:{reg.get_exposed_port(8080)}/apis/ccompat/v7"
        )
        url = pg.get_connection_url().rsplit("/", 1)[0]
        yield Endpoints(kafka.get_bootstrap_server(), registry, url, "testcontainers")


@contextmanager
def _local_stack() -> Iterator[Endpoints]:
    from channelstream_cli import stack

    stack.up()
    e = stack.endpoints()
    yield Endpoints(e["kafka"], e["registry"], e["postgres"], "local stack")


@contextmanager
def endpoints() -> Iterator[Endpoints]:
    found = _from_env()
    if found:
        yield found
    elif _docker_reachable():
        with _containers() as e:
            yield e
    else:
        with _local_stack() as e:
            yield e


def unique_prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}."


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def eventually(
    check: Callable[[], Awaitable[T]], within: float = 30.0, interval: float = 0.1
) -> T:
    """Poll the async `check()` until it returns something truthy and return that; raise
    AssertionError after `within` seconds. For waiting on asynchronous effects in tests."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within}s (last: {result!r})")
        await asyncio.sleep(interval)


async def provision(endpoints: Endpoints, prefix: str) -> str:
    """Create every registry topic under `prefix` and register every schema version."""
    from channelstream_common.admin import ensure_topics, register_schemas
    from channelstream_common.serde import AvroSerde

    await ensure_topics(endpoints.kafka, prefix)
    await register_schemas(AvroSerde(endpoints.registry, prefix))
    return prefix


def partner_enrolled(pid: str, **fields: Any) -> dict[str, Any]:
    """A PartnerEnrolled value for tests (a distributor unless `fields` say otherwise)."""
    from datetime import date

    from channelstream_common.events import new_metadata

    return {
        "metadata": new_metadata("onboarding"),
        "partner_id": pid,
        "legal_name": f"{pid} Ltd",
        "partner_type": "DISTRIBUTOR",
        "tier": "GOLD",
        "parent_distributor_id": None,
        "territories": ["DE"],
        "exclusive_territories": [],
        "enrolled_on": date(2026, 1, 5),
        "contact_email": "ops@example.com",
    } | fields
