"""dealreg on the real stack: instances started in-process, onboarding's events published here."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import date
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from channelstream_common import testing
from channelstream_common.events import new_metadata
from channelstream_common.publisher import EventPublisher
from channelstream_common.serde import AvroSerde
from channelstream_common.topics import DEAL_REGISTERED, DEAL_REJECTED, PARTNER_ENROLLED, Topic
from dealreg.bootstrap import DealregService, bootstrap

Events = list[dict[str, Any]]


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


class Onboarding:
    """Stands in for the onboarding service: publishes PartnerEnrolled."""

    def __init__(self, publisher: EventPublisher) -> None:
        self.publisher = publisher

    async def enrol(self, partner_type: str = "RESELLER", partner_id: str | None = None) -> str:
        partner_id = partner_id or new_id("P")
        await self.publisher.publish(
            PARTNER_ENROLLED,
            {
                "metadata": new_metadata("onboarding"),
                "partner_id": partner_id,
                "legal_name": f"{partner_id} Ltd",
                "partner_type": partner_type,
                "tier": "GOLD",
                "parent_distributor_id": None,
                "territories": ["US", "DE"],
                "exclusive_territories": [],
                "enrolled_on": date(2026, 1, 5),
                "contact_email": "ops@example.com",
            },
        )
        return partner_id

    async def enrol_known(self, svc: DealregService, partner_type: str = "RESELLER") -> str:
        """Enrol, and wait until `svc` has projected the partner."""
        partner_id = await self.enrol(partner_type)
        await testing.eventually(lambda: knows_partner(svc, partner_id))
        return partner_id


@pytest.fixture
async def onboarding(endpoints, topic_prefix, provisioned) -> AsyncIterator[Onboarding]:
    serde = AvroSerde(endpoints.registry, topic_prefix)
    publisher = EventPublisher(endpoints.kafka, serde, "onboarding")
    await publisher.start()
    yield Onboarding(publisher)
    await publisher.stop()


async def knows_partner(svc: DealregService, partner_id: str) -> bool:
    return await svc.repository.partner(partner_id) is not None


Launch = Callable[..., Awaitable[DealregService]]


@pytest.fixture
async def launch(settings_for, onboarding) -> AsyncIterator[Launch]:
    """`await launch(**settings_overrides)` starts an instance on a fresh database;
    `await launch(like=svc)` a replica sharing svc's database. Each is live (its partners
    projection has consumed a fresh event) when returned, and stopped after the test."""
    started: list[DealregService] = []

    async def start(like: DealregService | None = None, **overrides: Any) -> DealregService:
        port = testing.free_port()
        if like is None:
            settings = settings_for("dealreg", http_port=port, **overrides)
        else:
            settings = replace(like.runtime.settings, http_port=port)
        svc = bootstrap(settings)
        await svc.start()
        started.append(svc)
        warm = await onboarding.enrol()
        await testing.eventually(lambda: knows_partner(svc, warm), within=60)
        return svc

    yield start
    for svc in reversed(started):
        await svc.stop()


@pytest.fixture
async def dealreg(launch: Launch) -> DealregService:
    return await launch()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


@pytest.fixture
def deal() -> Callable[..., dict[str, Any]]:
    """A valid registration request; keyword arguments replace fields."""

    def make(partner_id: str, **changes: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "deal_id": new_id("D"),
            "partner_id": partner_id,
            "customer": {"name": f"Initech {uuid.uuid4().hex[:6]} Inc", "country": "US"},
            "products": [{"sku": "SKU-1", "quantity": 5}],
            "estimated_value": "12500.00",
            "currency": "USD",
            "expected_close_on": "2026-12-31",
            "evidence": {"contact_email": "cto@initech.example"},
            "registered_on": "2026-11-01",
        }
        body.update(changes)
        return body

    return make


class Topics:
    """dealreg's event topics of this run, read from the beginning and decoded."""

    def __init__(self, bootstrap: str, serde: AvroSerde) -> None:
        self.bootstrap = bootstrap
        self.serde = serde

    async def read(self, topic: Topic) -> Events:
        name = topic.full_name(self.serde.prefix)
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            parts = [TopicPartition(name, p) for p in range(topic.partitions)]
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            ends = await consumer.end_offsets(parts)
            values: Events = []
            for tp in parts:
                while await consumer.position(tp) < ends[tp]:
                    for r in (await consumer.getmany(tp, timeout_ms=1000)).get(tp, []):
                        value = await self.serde.decode(topic, r.value)
                        values.append({**value, "_key": r.key})
            return values
        finally:
            await consumer.stop()

    async def decisions(self, deal_ids: set[str], expected: int) -> tuple[Events, Events]:
        """(DealRegistered, DealRegistrationRejected) events of `deal_ids`, once at least
        `expected` have arrived."""

        async def arrived() -> tuple[Events, Events] | None:
            approved = [v for v in await self.read(DEAL_REGISTERED) if v["deal_id"] in deal_ids]
            refused = [v for v in await self.read(DEAL_REJECTED) if v["deal_id"] in deal_ids]
            return (approved, refused) if len(approved) + len(refused) >= expected else None

        return await testing.eventually(arrived)


@pytest.fixture
def topics(endpoints, topic_prefix, provisioned) -> Topics:
    return Topics(endpoints.kafka, AvroSerde(endpoints.registry, topic_prefix))
