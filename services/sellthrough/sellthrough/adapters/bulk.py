"""Bulk statements straight on the psycopg connection of a SQLAlchemy transaction, with arrays
as binary parameters (%b): three times cheaper to send than the text arrays of text()."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection


async def fetch(conn: AsyncConnection, query: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run `query` (psycopg placeholders) in the caller's transaction; rows as tuples. Errors
    surface as SQLAlchemy's (an outage as OperationalError), as they would through text()."""
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    try:
        async with driver.cursor() as cur:
            await cur.execute(query, params)
            return list(await cur.fetchall()) if cur.description else []
    except psycopg.Error as exc:
        raise DBAPIError.instance(query, None, exc, psycopg.Error) from exc
