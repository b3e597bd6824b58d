"""dealreg's database: the partners projection, deal decisions and the decision transaction."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from channelstream_common.db import reading
from channelstream_common.outbox import Outbox
from channelstream_common.topics import Topic
from sqlalchemy import ColumnElement, Row, and_, func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from dealreg.adapters.tables import deals, partners
from dealreg.domain.model import (
    Customer,
    DealRecord,
    DealRequest,
    Decision,
    Evidence,
    Partner,
    Product,
    ProtectedDeal,
    Reason,
    Status,
)


def lock_id(key: str) -> int:
    """A stable signed 64-bit advisory-lock id for a key (same in every replica and release)."""
    digest = hashlib.blake2b(f"dealreg:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Decider:
    """One decision transaction: lock the customer, read, record the decision, stage its event."""

    def __init__(self, conn: AsyncConnection, outbox: Outbox) -> None:
        self.conn = conn
        self.outbox = outbox

    async def lock(self, keys: Iterable[str]) -> None:
        """Transaction-scoped advisory locks, taken in one global order so replicas never
        deadlock; released at commit or rollback."""
        ids = sorted({lock_id(k) for k in keys})
        # one round trip; PostgreSQL evaluates a select list left to right
        await self.conn.execute(select(*(func.pg_advisory_xact_lock(i) for i in ids)))

    async def deal_status(self, deal_id: str) -> Status | None:
        status = await self.conn.scalar(select(deals.c.status).where(deals.c.deal_id == deal_id))
        return None if status is None else Status(status)

    async def partner(self, partner_id: str) -> Partner | None:
        return await _partner(self.conn, partner_id)

    async def stored(self, deal_id: str) -> DealRecord | None:
        row = (await self.conn.execute(select(deals).where(deals.c.deal_id == deal_id))).first()
        return None if row is None else _record(row)

    async def protected_deals(self, request: DealRequest) -> list[ProtectedDeal]:
        """Approved deals naming the request's customer (by key or domain) on its day."""
        day = request.registered_on
        same = deals.c.customer_key == request.customer.key
        if request.customer.domain_key:
            same = or_(same, deals.c.domain_key == request.customer.domain_key)
        rows = await self.conn.execute(
            select(deals).where(
                and_(
                    deals.c.status == Status.APPROVED.value,
                    same,
                    deals.c.registered_on <= day,
                    deals.c.protection_expires_on >= day,
                )
            )
        )
        return [
            ProtectedDeal(
                deal_id=r.deal_id,
                partner_id=r.partner_id,
                customer_key=r.customer_key,
                domain_key=r.domain_key,
                skus=frozenset(r.skus),
                registered_on=r.registered_on,
                protection_expires_on=r.protection_expires_on,
            )
            for r in rows
        ]

    async def record(self, request: DealRequest, decision: Decision, event_id: str) -> datetime:
        """Store a decision that owns its deal_id; returns its decided_at."""
        row = _row(request, decision, event_id)
        result = await self.conn.execute(insert(deals).values(row).returning(deals.c.decided_at))
        decided_at: datetime = result.scalar_one()
        return decided_at

    async def stage(self, events: list[tuple[Topic, dict[str, Any]]]) -> None:
        await self.outbox.add(self.conn, events)


class DealRepository:
    def __init__(self, engine: AsyncEngine, outbox: Outbox) -> None:
        self.engine = engine
        self.outbox = outbox

    @asynccontextmanager
    async def deciding(self) -> AsyncIterator[Decider]:
        """Commits on normal exit (then wakes the outbox relay), rolls back on error."""
        async with self.engine.begin() as conn:
            yield Decider(conn, self.outbox)
        self.outbox.kick()

    async def partner(self, partner_id: str) -> Partner | None:
        async with reading(self.engine) as conn:
            return await _partner(conn, partner_id)

    async def deal_exists(self, deal_id: str) -> bool:
        async with reading(self.engine) as conn:
            found = await conn.scalar(select(deals.c.deal_id).where(deals.c.deal_id == deal_id))
            return found is not None

    async def get(self, deal_id: str) -> DealRecord | None:
        async with reading(self.engine) as conn:
            row = (await conn.execute(select(deals).where(deals.c.deal_id == deal_id))).first()
            return None if row is None else _record(row)

    async def search(
        self,
        *,
        partner_id: str | None = None,
        name_key: str | None = None,
        domain_key: str | None = None,
        country: str | None = None,
        status: Status | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[DealRecord]:
        query = select(deals)
        if partner_id:
            query = query.where(deals.c.partner_id == partner_id)
        same: list[ColumnElement[bool]] = []
        if name_key:
            same.append(deals.c.name_key.contains(name_key, autoescape=True))
        if domain_key:
            same.append(deals.c.domain_key == domain_key)
        if same:
            query = query.where(or_(*same))
        if country:
            query = query.where(deals.c.customer_country == country)
        if status:
            query = query.where(deals.c.status == status.value)
        query = query.order_by(deals.c.registered_on.desc(), deals.c.deal_id)
        async with reading(self.engine) as conn:
            rows = await conn.execute(query.limit(limit).offset(offset))
            return [_record(r) for r in rows]


async def save_partners(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """One multi-row insert; an id already known keeps its first enrolment (redelivery-safe)."""
    if rows:
        await conn.execute(pg_insert(partners).values(list(rows)).on_conflict_do_nothing())


async def _partner(conn: AsyncConnection, partner_id: str) -> Partner | None:
    row = (
        await conn.execute(
            select(partners.c.partner_id, partners.c.partner_type).where(
                partners.c.partner_id == partner_id
            )
        )
    ).first()
    return None if row is None else Partner(row.partner_id, row.partner_type)


def _row(request: DealRequest, decision: Decision, event_id: str) -> dict[str, Any]:
    c, e = request.customer, request.evidence
    return {
        "deal_id": request.deal_id,
        "partner_id": request.partner_id,
        "status": decision.status.value,
        "reason": decision.reason.value if decision.reason else None,
        "detail": decision.detail,
        "conflicting_deal_id": decision.conflicting_deal_id,
        "customer_name": c.name,
        "customer_country": c.country,
        "customer_domain": c.domain,
        "customer_key": c.key,
        "name_key": c.name_key,
        "domain_key": c.domain_key,
        "products": [{"sku": p.sku, "quantity": p.quantity} for p in request.products],
        "skus": sorted(request.skus),
        "estimated_value": request.estimated_value,
        "currency": request.currency,
        "expected_close_on": request.expected_close_on,
        "evidence_contact_email": e.contact_email,
        "evidence_meeting_on": e.meeting_on,
        "evidence_proposal_ref": e.proposal_ref,
        "registered_on": request.registered_on,
        "protection_expires_on": decision.protection_expires_on,
        "event_id": event_id,
        "decided_at": func.now(),
    }


def _record(r: Row[Any]) -> DealRecord:
    request = DealRequest(
        deal_id=r.deal_id,
        partner_id=r.partner_id,
        customer=Customer(r.customer_name, r.customer_country, r.customer_domain),
        products=tuple(Product(p["sku"], p["quantity"]) for p in r.products),
        estimated_value=r.estimated_value,
        currency=r.currency,
        expected_close_on=r.expected_close_on,
        evidence=Evidence(r.evidence_contact_email, r.evidence_meeting_on, r.evidence_proposal_ref),
        registered_on=r.registered_on,
    )
    decision = Decision(
        Status(r.status),
        Reason(r.reason) if r.reason else None,
        r.detail,
        r.protection_expires_on,
        r.conflicting_deal_id,
    )
    return DealRecord(request, decision, r.decided_at)
