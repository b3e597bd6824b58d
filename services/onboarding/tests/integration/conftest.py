"""Onboarding on the real stack: the service in-process, its topic read back with the serde."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeVar

import httpx
import pytest
from channelstream_common import testing
from channelstream_common.audit import read_topic
from channelstream_common.serde import AvroSerde
from channelstream_common.topics import PARTNER_ENROLLED
from onboarding.bootstrap import OnboardingService, bootstrap

T = TypeVar("T")


@pytest.fixture
def tag() -> str:
    """Makes this test's partner ids unique on the run's shared topic."""
    return uuid.uuid4().hex[:6].upper()


Running = tuple[OnboardingService, httpx.AsyncClient]


@pytest.fixture
def onboarding_service(
    settings_for: Callable[..., Any], provisioned: None
) -> Callable[[], AbstractAsyncContextManager[Running]]:
    """`async with onboarding_service() as (svc, http)`: started on a free port, own database."""

    @asynccontextmanager
    async def run() -> AsyncIterator[Running]:
        port = testing.free_port()
        svc = bootstrap(settings_for("onboarding", http_port=port))
        await svc.start()
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                yield svc, http
        finally:
            await svc.stop()

    return run


async def _eventually(check: Callable[[], Awaitable[T | None]], within: float = 30) -> T:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        found = await check()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.2)


@pytest.fixture
def eventually() -> Callable[..., Any]:
    """`await eventually(check)`: poll until `check()` is truthy (bounded), return its value."""
    return _eventually


@pytest.fixture
def read_enrolled(endpoints: testing.Endpoints, topic_prefix: str) -> Callable[..., Any]:
    """Every PartnerEnrolled record on the run's topic, decoded: [(key, value, headers)]."""

    async def read() -> list[tuple[str, dict[str, Any], dict[str, bytes]]]:
        serde = AvroSerde(endpoints.registry, topic_prefix)
        found = await read_topic(endpoints.kafka, serde, PARTNER_ENROLLED)
        return [(e.key.decode() if e.key else "", e.value, dict(e.headers)) for e in found]

    return read
