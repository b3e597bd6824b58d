"""Bulk writes without per-value parameter binding: rows are `COPY`ed with psycopg 3 (text format,
formatted in blocks by channelstream_common.copy), never bound as one array parameter per column.

`insert_new` is optimistic: in the common case every row is new, and the rows are COPYed straight
into their table under a savepoint. When one of them conflicts with a unique key (an event
delivered again, a report line repeated under another event id), the savepoint is rolled back,
the rows are COPYed into a temporary staging table of the session, `stage_<table>` (same columns,
emptied at every commit), and moved by a precompiled `INSERT … SELECT … ON CONFLICT DO NOTHING`
whose result the caller gets (typically the keys that were not inserted).

Only that fallback touches the staging table (created if missing, emptied first): the common
path uses no temporary table at all, so commits have nothing to truncate."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from channelstream_common.copy import write_rows
from channelstream_common.db import cursor
from psycopg import errors
from sqlalchemy import Table, TextClause
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection


def staging(table: Table) -> str:
    return f"stage_{table.name}"


def columns(table: Table) -> list[str]:
    return [c.name for c in table.columns]


def move(table: Table, *, returning: str | None = None) -> str:
    """`insert into <table> select … from stage_<table> on conflict do nothing [returning …]`"""
    cols = ", ".join(columns(table))
    return (
        f"insert into {table.name} ({cols}) select {cols} from {staging(table)}"
        " on conflict do nothing" + (f" returning {returning}" if returning else "")
    )


async def _copy(cur: Any, statement: str, rows: Iterable[Sequence[Any]]) -> None:
    async with cur.copy(statement) as copy:
        await write_rows(copy, rows)


def _statement(target: str, table: Table) -> str:
    return f"copy {target} ({', '.join(columns(table))}) from stdin"


async def copy_rows(conn: AsyncConnection, table: Table, rows: Iterable[Sequence[Any]]) -> None:
    """COPY `rows` (tuples in `table`'s column order) into `stage_<table>`, emptied first, in
    the caller's transaction. psycopg errors surface as SQLAlchemy's DBAPIError subclasses
    (OperationalError for an outage), so the projection retries them like any other statement's.
    """
    name = staging(table)
    statement = _statement(name, table)
    async with cursor(conn, statement) as cur:
        await cur.execute(  # no parameters: simple query protocol, both in one round trip
            f"create temp table if not exists {name} (like {table.name})"
            f" on commit delete rows; truncate {name}"
        )
        await _copy(cur, statement, rows)


async def copy_new(conn: AsyncConnection, table: Table, rows: Sequence[Sequence[Any]]) -> bool:
    """COPY `rows` straight into `table` under a savepoint; False, with nothing written, when a
    row violates a unique key. The savepoint is never released (it ends with the transaction),
    which saves a round trip."""
    savepoint = f"copy_{table.name}"
    statement = _statement(table.name, table)
    async with cursor(conn, statement) as cur:
        await cur.execute(f"savepoint {savepoint}")
        try:
            await _copy(cur, statement, rows)
        except errors.UniqueViolation:
            await cur.execute(f"rollback to savepoint {savepoint}")
            return False
    return True


async def insert_new(
    conn: AsyncConnection, table: Table, rows: Sequence[Sequence[Any]], fallback: TextClause
) -> CursorResult[Any] | None:
    """Insert `rows`, skipping those that conflict: None when all were new (the fast path),
    else the result of `fallback` (a `move` from the staging table)."""
    if not rows or await copy_new(conn, table, rows):
        return None
    await copy_rows(conn, table, rows)
    return await conn.execute(fallback)
