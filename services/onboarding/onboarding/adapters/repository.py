"""SQL for onboarding: every statement takes or returns whole batches."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from onboarding.adapters.tables import exclusive_claims, partner_directory, partners
from onboarding.domain.enrolment import Registry
from onboarding.domain.model import Partner, PartnerType, Tier

PARTNER_FIELDS = (
    "partner_id",
    "legal_name",
    "partner_type",
    "tier",
    "parent_distributor_id",
    "territories",
    "exclusive_territories",
    "enrolled_on",
    "contact_email",
)


def to_partner(row: Any) -> Partner:
    return Partner(
        partner_id=row.partner_id,
        legal_name=row.legal_name,
        partner_type=PartnerType(row.partner_type),
        tier=Tier(row.tier),
        parent_distributor_id=row.parent_distributor_id,
        territories=tuple(row.territories),
        exclusive_territories=tuple(row.exclusive_territories),
        enrolled_on=row.enrolled_on,
        contact_email=row.contact_email,
    )


def partner_row(partner: Partner) -> dict[str, Any]:
    return {
        "partner_id": partner.partner_id,
        "legal_name": partner.legal_name,
        "partner_type": partner.partner_type.value,
        "tier": partner.tier.value,
        "parent_distributor_id": partner.parent_distributor_id,
        "territories": list(partner.territories),
        "exclusive_territories": list(partner.exclusive_territories),
        "enrolled_on": partner.enrolled_on,
        "contact_email": partner.contact_email,
    }


# --- write side -------------------------------------------------------------------------------


async def load_registry(
    conn: AsyncConnection, partner_ids: Iterable[str], territories: Iterable[str]
) -> Registry:
    """The enrolled partners among `partner_ids` and the holders of `territories`."""
    ids, terr = sorted(partner_ids), sorted(territories)
    found = await conn.execute(select(partners).where(partners.c.partner_id.in_(ids)))
    held = await conn.execute(
        select(exclusive_claims.c.territory, exclusive_claims.c.partner_id).where(
            exclusive_claims.c.territory.in_(terr)
        )
    )
    return Registry(
        partners={r.partner_id: to_partner(r) for r in found},
        exclusive_holders={r.territory: r.partner_id for r in held},
    )


async def event_ids(conn: AsyncConnection, partner_ids: Iterable[str]) -> dict[str, str]:
    rows = await conn.execute(
        select(partners.c.partner_id, partners.c.event_id).where(
            partners.c.partner_id.in_(sorted(partner_ids))
        )
    )
    return {r.partner_id: r.event_id for r in rows}


@dataclass(frozen=True)
class Staged:
    partner: Partner
    event_id: str
    correlation_id: str


async def insert_partners(conn: AsyncConnection, staged: Sequence[Staged]) -> set[str]:
    """Insert new partners; returns the ids actually inserted (a concurrent writer may win)."""
    if not staged:
        return set()
    rows = [
        {**partner_row(s.partner), "event_id": s.event_id, "correlation_id": s.correlation_id}
        for s in staged
    ]
    stmt = insert(partners).on_conflict_do_nothing().returning(partners.c.partner_id)
    return set((await conn.execute(stmt, rows)).scalars())


async def claim_territories(conn: AsyncConnection, claims: Mapping[str, str]) -> set[str]:
    """Claim {territory: partner_id}; returns the territories this transaction now holds."""
    if not claims:
        return set()
    rows = [{"territory": t, "partner_id": claims[t]} for t in sorted(claims)]
    stmt = insert(exclusive_claims).on_conflict_do_nothing().returning(exclusive_claims.c.territory)
    return set((await conn.execute(stmt, rows)).scalars())


# --- read side --------------------------------------------------------------------------------


async def record_enrolled(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Add partners to the directory; a partner already there (a re-sent event) is kept."""
    if rows:
        await conn.execute(insert(partner_directory).on_conflict_do_nothing(), list(rows))


@dataclass(frozen=True)
class DirectoryQuery:
    partner_type: str | None = None
    tier: str | None = None
    parent_distributor_id: str | None = None
    territory: str | None = None
    limit: int = 500
    offset: int = 0


async def list_directory(
    conn: AsyncConnection, query: DirectoryQuery
) -> tuple[list[dict[str, Any]], int]:
    """One page of the directory, ordered by partner_id, and the total matching."""
    d = partner_directory.c
    conditions = []
    if query.partner_type:
        conditions.append(d.partner_type == query.partner_type)
    if query.tier:
        conditions.append(d.tier == query.tier)
    if query.parent_distributor_id:
        conditions.append(d.parent_distributor_id == query.parent_distributor_id)
    if query.territory:
        conditions.append(d.territories.any(query.territory))
    page = (
        select(partner_directory)
        .where(*conditions)
        .order_by(d.partner_id)
        .limit(query.limit)
        .offset(query.offset)
    )
    total = select(func.count()).select_from(partner_directory).where(*conditions)
    rows = [dict(r._mapping) for r in await conn.execute(page)]
    return rows, int((await conn.execute(total)).scalar_one())


async def get_directory_entry(conn: AsyncConnection, partner_id: str) -> dict[str, Any] | None:
    query = select(partner_directory).where(partner_directory.c.partner_id == partner_id)
    row = (await conn.execute(query)).first()
    return dict(row._mapping) if row else None
