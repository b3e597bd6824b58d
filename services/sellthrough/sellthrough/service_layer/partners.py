"""The partners sellthrough knows (from PartnerEnrolled), cached in memory for validation."""

from __future__ import annotations

from collections.abc import Iterable

from channelstream_common.db import reading
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sellthrough.adapters import repository as repo
from sellthrough.domain.model import Partner


class PartnerBook:
    """Replicas share the partners table but each consumes only some partitions of
    PartnerEnrolled, so an id missing here is looked up in the table before it counts as
    unknown."""

    def __init__(self) -> None:
        self.known: dict[str, Partner] = {}

    def remember(self, partners: Iterable[Partner]) -> None:
        for p in partners:
            self.known.setdefault(p.partner_id, p)

    async def look_up(self, conn: AsyncConnection, ids: Iterable[str]) -> None:
        missing = sorted({i for i in ids if i not in self.known})
        if missing:
            self.remember(await repo.load_partners(conn, missing))

    async def load(self, engine: AsyncEngine) -> int:
        async with reading(engine) as conn:
            self.remember(await repo.load_partners(conn))
        return len(self.known)
