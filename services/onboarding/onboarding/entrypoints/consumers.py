"""Projection handlers: PartnerEnrolled events into the partner directory."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from channelstream_common.events import Envelope
from sqlalchemy.ext.asyncio import AsyncConnection

from onboarding.adapters import repository as repo
from onboarding.service_layer.events import directory_row

PROJECTION = "partner-directory"


async def apply_partner_enrolled(conn: AsyncConnection, events: Sequence[Envelope]) -> None:
    """Projection handler: the first event of a partner wins; re-sent copies change nothing."""
    rows: dict[str, dict[str, Any]] = {}
    for env in events:
        rows.setdefault(env.value["partner_id"], directory_row(env.value))
    await repo.record_enrolled(conn, [rows[pid] for pid in sorted(rows)])
