"""No decision lost between the database and Kafka; the partners projection is idempotent."""

from __future__ import annotations

from datetime import date

import pytest
from channelstream_common.events import Envelope, new_metadata
from channelstream_common.topics import DEAL_REGISTERED
from dealreg.entrypoints.consumers import apply_partner_enrolled
from sqlalchemy import text

pytestmark = pytest.mark.integration


async def test_decision_staged_before_a_crash_is_published_by_the_next_instance(
    launch, onboarding, http, deal, topics
):
    crashed = await launch()
    partner = await onboarding.enrol_known(crashed)
    await crashed.outbox.stop()  # the relay dies; decisions are still committed with their event
    body = deal(partner)
    assert (await http.post(f"{crashed.url}/deals", json=body)).status_code == 201
    async with crashed.runtime.engine.connect() as conn:
        pending = await conn.scalar(
            text(
                "select count(*) from outbox o join deals d using (event_id) where d.deal_id = :d"
            ),
            {"d": body["deal_id"]},
        )
    assert pending == 1
    crashed.runtime.outbox = None  # the process dies without draining the outbox: stop() only
    await crashed.runtime.stop()  # releases what the test session would otherwise leak
    assert body["deal_id"] not in {e["deal_id"] for e in await topics.read(DEAL_REGISTERED)}

    await launch(like=crashed)  # any replica's relay publishes what is staged
    registered, refused = await topics.decisions({body["deal_id"]}, 1)
    assert [e["deal_id"] for e in registered] == [body["deal_id"]]
    assert refused == []


def enrolment(partner_id: str, legal_name: str, event_id: str) -> dict:
    return {
        "metadata": {**new_metadata("onboarding"), "event_id": event_id},
        "partner_id": partner_id,
        "legal_name": legal_name,
        "partner_type": "RESELLER",
        "tier": "SILVER",
        "parent_distributor_id": None,
        "territories": ["FR"],
        "exclusive_territories": [],
        "enrolled_on": date(2026, 2, 1),
        "contact_email": "a@b.example",
    }


async def test_resent_and_conflicting_enrolments_leave_the_first_one(dealreg):
    first = enrolment("PX-1", "First SARL", "e-1")
    batch = [
        Envelope("t", 0, 10, b"PX-1", first, 0),
        Envelope("t", 0, 11, b"PX-1", first, 0),  # outbox re-send at a new offset
        Envelope("t", 0, 12, b"PX-1", enrolment("PX-1", "Second SARL", "e-2"), 0),
        Envelope("t", 1, 3, b"PX-2", enrolment("PX-2", "Other SA", "e-3"), 0),
    ]

    async def snapshot() -> list[tuple]:
        async with dealreg.runtime.engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "select partner_id, legal_name, event_id from partners"
                    " where partner_id like 'PX-%' order by partner_id"
                )
            )
            return [tuple(r) for r in rows]

    async with dealreg.runtime.engine.begin() as conn:
        await apply_partner_enrolled(conn, list(reversed(batch)))
    once = await snapshot()
    assert once == [("PX-1", "First SARL", "e-1"), ("PX-2", "Other SA", "e-3")]
    async with dealreg.runtime.engine.begin() as conn:
        await apply_partner_enrolled(conn, batch)
    assert await snapshot() == once
