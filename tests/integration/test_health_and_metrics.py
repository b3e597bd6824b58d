"""Health and metrics on a real service: counters and lag move; readiness follows PostgreSQL."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from channelstream_cli import stack
from channelstream_common import testing
from onboarding.bootstrap import bootstrap

pytestmark = pytest.mark.integration


def metric(text: str, name: str, **labels: str) -> float | None:
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def partner(pid: str) -> dict:
    return {
        "partner_id": pid,
        "legal_name": f"{pid} Ltd",
        "partner_type": "DISTRIBUTOR",
        "tier": "GOLD",
        "territories": ["NL"],
        "enrolled_on": "2026-01-05",
        "contact_email": "ops@example.com",
    }


async def test_metrics_expose_lag_and_counters_that_move(settings_for, provisioned, topic_prefix):
    port = testing.free_port()
    svc = bootstrap(settings_for("onboarding", http_port=port))
    await svc.start()
    topic = f"{topic_prefix}onboarding.partner-enrolled"
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            before = (
                metric(
                    (await http.get("/metrics")).text,
                    "channelstream_events_processed_total",
                    service="onboarding",
                    topic=topic,
                )
                or 0.0
            )
            pid = f"M-{uuid.uuid4().hex[:6].upper()}"
            assert (await http.post("/partners", json=partner(pid))).status_code == 201

            async def moved() -> str | None:
                text = (await http.get("/metrics")).text
                after = (
                    metric(
                        text,
                        "channelstream_events_processed_total",
                        service="onboarding",
                        topic=topic,
                    )
                    or 0.0
                )
                lag = [
                    metric(
                        text,
                        "channelstream_consumer_lag",
                        service="onboarding",
                        topic=topic,
                        partition=str(p),
                    )
                    for p in range(3)
                ]
                return text if after >= before + 1 and lag == [0.0, 0.0, 0.0] else None

            text = await testing.eventually(moved, within=30)
            assert metric(text, "channelstream_handler_seconds_count", service="onboarding")
            assert (
                metric(text, "channelstream_projection_freshness_seconds", service="onboarding")
                or -1
            ) >= 0
    finally:
        await svc.stop()


@pytest.mark.stack_lifecycle
async def test_readiness_fails_while_postgres_is_down_and_recovers(
    endpoints, settings_for, isolated_prefix
):
    if endpoints.source != "local stack":
        pytest.skip("stops the local stack's PostgreSQL")
    port = testing.free_port()
    svc = bootstrap(settings_for("onboarding", http_port=port, topic_prefix=isolated_prefix))
    await svc.start()
    paths = stack.Paths(stack.repo_root())
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:

            async def ready_is(code: int) -> bool:
                return (await http.get("/health/ready")).status_code == code

            await testing.eventually(lambda: ready_is(200), within=90)
            assert stack.stop_postgres(paths)
            await testing.eventually(lambda: ready_is(503), within=30)
            body = (await http.get("/health/ready")).json()
            assert body["checks"]["database"] is False
            assert (await http.get("/health/live")).status_code == 200
            stack.start_postgres(paths)
            await testing.eventually(lambda: ready_is(200), within=60)
    finally:
        stack.start_postgres(paths)
        await svc.stop()


async def test_a_fresh_database_catches_up_from_the_log_not_the_groups_committed_offsets(
    settings_for, provisioned
):
    """Same consumer group, new empty database: the projection must still see every event."""
    pids = []
    for _ in range(2):
        port = testing.free_port()
        svc = bootstrap(settings_for("onboarding", http_port=port))
        await svc.start()
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                pid = f"F-{uuid.uuid4().hex[:6].upper()}"
                assert (await http.post("/partners", json=partner(pid))).status_code == 201
                pids.append(pid)

                async def listed(wanted: list[str] = pids, http: httpx.AsyncClient = http) -> bool:
                    found = [(await http.get(f"/partners/{p}")).status_code for p in wanted]
                    return found == [200] * len(wanted)

                await testing.eventually(listed, within=30)
        finally:
            await svc.stop()
