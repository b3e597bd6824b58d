"""The partner directory: the read side, served from the PartnerEnrolled projection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from channelstream_common.db import reading
from sqlalchemy.ext.asyncio import AsyncEngine

from onboarding.adapters import repository as repo


@dataclass
class Directory:
    engine: AsyncEngine

    async def list(self, query: repo.DirectoryQuery) -> tuple[list[dict[str, Any]], int]:
        async with reading(self.engine) as conn:
            return await repo.list_directory(conn, query)

    async def get(self, partner_id: str) -> dict[str, Any] | None:
        async with reading(self.engine) as conn:
            return await repo.get_directory_entry(conn, partner_id)
