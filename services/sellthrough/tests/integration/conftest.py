"""sellthrough on the real stack: instances started in-process; onboarding's PartnerEnrolled and
distributor integrations' intake lines published here."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from channelstream_common import testing
from channelstream_common.events import new_metadata
from channelstream_common.publisher import EventPublisher
from channelstream_common.serde import AvroSerde
from channelstream_common.topics import PARTNER_ENROLLED, Topic
from sellthrough.bootstrap import SellthroughService, bootstrap

Events = list[dict[str, Any]]


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


class Onboarding:
    """Stands in for the onboarding service: publishes PartnerEnrolled."""

    def __init__(self, publisher: EventPublisher) -> None:
        self.publisher = publisher

    async def enrol(
        self, partner_id: str, partner_type: str = "RESELLER", on: date = date(2024, 1, 2)
    ) -> str:
        await self.publisher.publish(
            PARTNER_ENROLLED,
            {
                "metadata": new_metadata("onboarding"),
                "partner_id": partner_id,
                "legal_name": f"{partner_id} Ltd",
                "partner_type": partner_type,
                "tier": "GOLD",
                "parent_distributor_id": None,
                "territories": ["US"],
                "exclusive_territories": [],
                "enrolled_on": on,
                "contact_email": "ops@example.com",
            },
        )
        return partner_id


@pytest.fixture(scope="session")
async def serde(endpoints, topic_prefix) -> AvroSerde:
    return AvroSerde(endpoints.registry, topic_prefix)


@pytest.fixture(scope="session")
async def onboarding(endpoints, serde, provisioned) -> AsyncIterator[Onboarding]:
    publisher = EventPublisher(endpoints.kafka, serde, "onboarding")
    await publisher.start()
    yield Onboarding(publisher)
    await publisher.stop()


@pytest.fixture(scope="session")
async def integration(endpoints, serde, provisioned) -> AsyncIterator[EventPublisher]:
    """A distributor integration: the only writer of the intake topics."""
    publisher = EventPublisher(endpoints.kafka, serde, "distributor-integrations")
    await publisher.start()
    yield publisher
    await publisher.stop()


class Sellthrough:
    """A running instance and an HTTP client on it."""

    def __init__(self, svc: SellthroughService, http: httpx.AsyncClient) -> None:
        self.svc = svc
        self.http = http
        self.url = str(http.base_url).rstrip("/")

    async def knows(self, *partner_ids: str) -> bool:
        """Whether every partner has reached the service. Partners are keyed to different
        partitions, so one arriving says nothing of another enrolled before it."""
        for partner_id in partner_ids:
            if (await self.http.get(f"/partners/{partner_id}")).status_code != 200:
                return False
        return True

    async def upload(self, path: str, body: str, content_type: str = "text/csv", **headers: str):
        response = await self.http.post(
            path, content=body.encode(), headers={"Content-Type": content_type, **headers}
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def get(self, path: str, **params: str) -> Any:
        response = await self.http.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    async def published(self) -> None:
        """Everything decided so far is on the topics."""
        await self.svc.outbox.flush()


Launch = Callable[..., Awaitable[Sellthrough]]


@pytest.fixture
async def launch(settings_for, onboarding) -> AsyncIterator[Launch]:
    """`await launch(hold_grace_seconds="1")` starts an instance on a fresh database with those
    service settings; it is live (has projected a fresh partner) when returned. One at a time:
    instances of one run share a consumer group."""
    started: list[tuple[SellthroughService, httpx.AsyncClient]] = []

    async def start(db_pool_size: int = 10, **extra: str) -> Sellthrough:
        port = testing.free_port()
        svc = bootstrap(
            settings_for("sellthrough", http_port=port, db_pool_size=db_pool_size, extra=extra)
        )
        http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60)
        started.append((svc, http))
        await svc.start()
        running = Sellthrough(svc, http)
        warm = await onboarding.enrol(new_id("WARM"))
        await testing.eventually(lambda: running.knows(warm), within=60)
        return running

    yield start
    for svc, http in reversed(started):
        await http.aclose()
        await asyncio.wait_for(svc.stop(), timeout=60)


@pytest.fixture
async def sellthrough(launch: Launch) -> Sellthrough:
    return await launch()


class Topics:
    """Topics of this run, read from the beginning and decoded."""

    def __init__(self, bootstrap: str, serde: AvroSerde) -> None:
        self.bootstrap = bootstrap
        self.serde = serde

    async def records(self, topic: Topic) -> list[Any]:
        name = topic.full_name(self.serde.prefix)
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            parts = [TopicPartition(name, p) for p in range(topic.partitions)]
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            ends = await consumer.end_offsets(parts)
            found: list[Any] = []
            for tp in parts:
                while await consumer.position(tp) < ends[tp]:
                    found += (await consumer.getmany(tp, timeout_ms=1000)).get(tp, [])
            return found
        finally:
            await consumer.stop()

    async def read(self, topic: Topic) -> Events:
        return [await self.serde.decode(topic, r.value) for r in await self.records(topic)]

    async def of(self, topic: Topic, correlation_id: str) -> Events:
        """The events of one upload (or one integration batch) on `topic`."""
        return [
            v for v in await self.read(topic) if v["metadata"]["correlation_id"] == correlation_id
        ]


@pytest.fixture
def topics(endpoints, serde, provisioned) -> Topics:
    return Topics(endpoints.kafka, serde)
