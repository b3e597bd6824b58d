"""Bulk SQL straight on the psycopg connection of a SQLAlchemy transaction: a batch's rows go in
by binary `COPY` (a row costs a fraction of what a value of a bound array does), and every
statement text is built once, at import.

Errors surface as SQLAlchemy's (an outage as OperationalError, so the batch is retried; a bad
row as e.g. IntegrityError, so the batch is retried event by event), as they would via text().
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from channelstream_common.db import cursor
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Integer,
    Numeric,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

# PostgreSQL type of each column type used in analytics' tables, for binary COPY
_PG_TYPES: tuple[tuple[type, str], ...] = (
    (BigInteger, "int8"),  # before Integer: BigInteger is a subclass of it
    (Integer, "int4"),
    (Numeric, "numeric"),
    (Date, "date"),
    (Boolean, "bool"),
    (Text, "text"),
)


def pg_type(column_type: Any) -> str:
    if isinstance(column_type, ARRAY):
        return f"{pg_type(column_type.item_type)}[]"
    for cls, name in _PG_TYPES:
        if isinstance(column_type, cls):
            return name
    raise TypeError(f"no COPY type for {column_type!r}")


@dataclass(frozen=True)
class FactTable:
    """COPY of a table's rows (tuples in `columns` order): straight into the table, or, when
    some may be there already, into `staged` (a temp table of the same columns, dropped at
    commit) and inserted from there, skipping rows whose keys are already in the table."""

    table: str
    columns: tuple[str, ...]
    types: tuple[str, ...]

    @classmethod
    def of(cls, table: Table) -> FactTable:
        return cls(
            table.name,
            tuple(c.name for c in table.c),
            tuple(pg_type(c.type) for c in table.c),
        )

    def index(self, column: str) -> int:
        return self.columns.index(column)

    @property
    def copy(self) -> str:
        return f"copy {self.table} ({', '.join(self.columns)}) from stdin (format binary)"

    @property
    def staged(self) -> str:
        return f"staged_{self.table}"

    @property
    def create_staged(self) -> str:
        return f"create temp table if not exists {self.staged} (like {self.table}) on commit drop"

    @property
    def copy_staged(self) -> str:
        return f"copy {self.staged} ({', '.join(self.columns)}) from stdin (format binary)"

    def insert_staged(self, returning: Sequence[str] = ()) -> str:
        """Insert the staged rows in the order they were copied (a temp table is read
        sequentially, never in parallel), skipping those whose natural key or event id is
        already there; `returning` columns of the rows that were new."""
        names = ", ".join(self.columns)
        back = f" returning {', '.join(returning)}" if returning else ""
        return (
            f"insert into {self.table} ({names}) select {names} from {self.staged}"
            f" on conflict do nothing{back}"
        )


Params = Sequence[Any] | Mapping[str, Any] | None


async def run(conn: AsyncConnection, statement: str, params: Params = None) -> None:
    """One statement (several, separated by `;`, when there are no parameters)."""
    async with cursor(conn, statement) as cur:
        await cur.execute(statement, params)


async def fetch(
    conn: AsyncConnection, statement: str, params: Params = None
) -> list[tuple[Any, ...]]:
    async with cursor(conn, statement) as cur:
        await cur.execute(statement, params)
        return list(await cur.fetchall())


async def copy(
    conn: AsyncConnection, statement: str, types: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Binary COPY of `rows` (`statement`: copy ... from stdin (format binary))."""
    async with cursor(conn, statement) as cur, cur.copy(statement) as out:
        out.set_types(list(types))
        for row in rows:
            await out.write_row(row)


def is_unique_violation(exc: DBAPIError) -> bool:
    return isinstance(exc.orig, psycopg.errors.UniqueViolation)
