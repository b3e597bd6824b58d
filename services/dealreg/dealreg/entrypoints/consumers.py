"""Projection handlers: what dealreg learns from other services' events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from channelstream_common.events import Envelope
from sqlalchemy.ext.asyncio import AsyncConnection

from dealreg.adapters.repository import save_partners


def partner_row(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "partner_id": value["partner_id"],
        "legal_name": value["legal_name"],
        "partner_type": value["partner_type"],
        "tier": value["tier"],
        "parent_distributor_id": value.get("parent_distributor_id"),
        "enrolled_on": value["enrolled_on"],
        "event_id": value["metadata"]["event_id"],
    }


async def apply_partner_enrolled(conn: AsyncConnection, events: Sequence[Envelope]) -> None:
    """The partners projection. The first enrolment of an id wins (onboarding refuses a second
    one), so redeliveries and outbox re-sends change nothing."""
    first: dict[str, dict[str, Any]] = {}
    for env in sorted(events, key=lambda e: (e.topic, e.partition, e.offset)):
        first.setdefault(env.value["partner_id"], partner_row(env.value))
    await save_partners(conn, [first[pid] for pid in sorted(first)])
