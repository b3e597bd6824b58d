"""Bulk statements straight on the psycopg connection of a SQLAlchemy transaction.

Columns travel as PostgreSQL array literals, one text parameter each (`cast(%s as text[])`):
joining a column into one string is a C-speed `str.join`, where an array parameter is dumped by
psycopg element by element in Python, the largest client-side cost of a 5 000-line batch."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from channelstream_common.db import cursor
from sqlalchemy.ext.asyncio import AsyncConnection


async def fetch(conn: AsyncConnection, query: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run `query` (psycopg placeholders) in the caller's transaction; rows as tuples. Errors
    surface as SQLAlchemy's (an outage as OperationalError), as they would through text()."""
    async with cursor(conn, query) as cur:
        await cur.execute(query, params)
        return list(await cur.fetchall()) if cur.description else []


def texts(values: Iterable[str | None]) -> str:
    """An array literal of texts, None as NULL: every element quoted, `"` and `\\` escaped."""
    values = list(values)
    if not values:
        return "{}"
    if None not in values:
        joined = '","'.join(values)  # type: ignore[arg-type]  # no None, checked above
        # nothing to escape (the common case): the only quotes are the separators' two each
        if joined.count('"') == 2 * (len(values) - 1) and "\\" not in joined:
            return '{"' + joined + '"}'
    return "{" + ",".join("NULL" if v is None else _quoted(v) for v in values) + "}"


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def ints(values: Iterable[int]) -> str:
    """An array literal of integers (bigint[] or integer[])."""
    return "{" + ",".join(map(str, values)) + "}"


def dates(values: Iterable[date]) -> str:
    """An array literal of dates (ISO format)."""
    return "{" + ",".join(d.isoformat() for d in values) + "}"
