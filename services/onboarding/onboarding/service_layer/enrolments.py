"""Enrolling partners: decide against the write side, stage rows and events in one transaction.

The exclusive-territory claims table (UNIQUE territory) and the partners primary key are the
arbiters between concurrent writers: a transaction whose inserts come back short lost a race,
rolls back and decides again against what the winner committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from channelstream_common.outbox import Outbox
from channelstream_common.topics import PARTNER_ENROLLED
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from onboarding.adapters import repository as repo
from onboarding.domain.enrolment import claimed_territories, referenced_ids
from onboarding.domain.model import Outcome, Partner, Rejection, Status
from onboarding.service_layer.events import partner_enrolled

CHUNK = 1000  # requests decided and committed per transaction
ATTEMPTS = 5
_RETRYABLE = {"40001", "40P01", "23503", "23505"}  # serialization, deadlock, FK, unique


class Contended(RuntimeError):
    """Concurrent writers kept winning every attempt; the caller may retry later."""


class _LostRace(Exception):
    pass


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    event_id: str | None = None  # the PartnerEnrolled event of an enrolled/unchanged partner


@dataclass
class Enrolments:
    engine: AsyncEngine
    outbox: Outbox

    async def enrol(
        self, requests: Sequence[Partner | Rejection], *, correlation_id: str
    ) -> list[Result]:
        """One result per request, in order. Later requests see earlier accepted ones."""
        results: list[Result] = []
        for start in range(0, len(requests), CHUNK):
            results += await self._chunk(requests[start : start + CHUNK], correlation_id)
        return results

    async def _chunk(
        self, requests: Sequence[Partner | Rejection], correlation_id: str
    ) -> list[Result]:
        for _ in range(ATTEMPTS):
            try:
                return await self._attempt(requests, correlation_id)
            except _LostRace:
                continue
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) not in _RETRYABLE:
                    raise
        raise Contended(f"enrolment lost {ATTEMPTS} races with concurrent writers")

    async def _attempt(
        self, requests: Sequence[Partner | Rejection], correlation_id: str
    ) -> list[Result]:
        async with self.engine.begin() as conn:
            registry = await repo.load_registry(
                conn, referenced_ids(requests), claimed_territories(requests)
            )
            outcomes = registry.decide_all(requests)
            accepted = [o.partner for o in outcomes if o.status is Status.ENROLLED and o.partner]
            events = [partner_enrolled(p, correlation_id=correlation_id) for p in accepted]
            ids = {e["partner_id"]: str(e["metadata"]["event_id"]) for e in events}
            if accepted:
                await self._stage(conn, accepted, events, correlation_id)
            unchanged = [o.partner_id for o in outcomes if o.status is Status.UNCHANGED]
            if unchanged:
                ids.update(await repo.event_ids(conn, unchanged))
        if accepted:
            self.outbox.kick()
        return [Result(o, ids.get(o.partner_id) if o.partner else None) for o in outcomes]

    async def _stage(
        self,
        conn: AsyncConnection,
        accepted: list[Partner],
        events: list[dict[str, Any]],
        correlation_id: str,
    ) -> None:
        staged = [
            repo.Staged(p, str(e["metadata"]["event_id"]), correlation_id)
            for p, e in zip(accepted, events, strict=True)
        ]
        inserted = await repo.insert_partners(conn, staged)
        claims = {t: p.partner_id for p in accepted for t in p.exclusive_territories}
        held = await repo.claim_territories(conn, claims)
        if len(inserted) < len(accepted) or len(held) < len(claims):
            raise _LostRace
        await self.outbox.add(conn, [(PARTNER_ENROLLED, e) for e in events])
