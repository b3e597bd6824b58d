"""Multi-row inserts as ONE statement with one array parameter per column:
`insert ... select * from unnest(:c0::text[], ...)`. The SQL text stays small and constant, so
large batches cost one round trip without building (and re-parsing) a placeholder per value."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Date, DateTime, Integer, Numeric, Table, Text, text
from sqlalchemy.ext.asyncio import AsyncConnection

_PG = (
    (BigInteger, "bigint"), (Integer, "integer"), (Numeric, "numeric"),
    (DateTime, "timestamptz"), (Date, "date"), (Text, "text"),
)  # fmt: skip


def _pg_type(column_type: Any) -> str:
    for python_type, name in _PG:
        if isinstance(column_type, python_type):
            return name
    raise TypeError(f"no array mapping for {column_type!r}")


async def insert_rows(
    conn: AsyncConnection,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    returning: str | None = None,
) -> set[Any]:
    """Insert `rows` (dicts keyed by column name), skipping conflicts; returns the `returning`
    column of the rows actually inserted."""
    if not rows:
        return set()
    columns = list(table.columns)
    arrays = ", ".join(f"cast(:c{i} as {_pg_type(c.type)}[])" for i, c in enumerate(columns))
    sql = (
        f"insert into {table.name} ({', '.join(c.name for c in columns)})"
        f" select * from unnest({arrays}) on conflict do nothing"
        + (f" returning {returning}" if returning else "")
    )
    params = {f"c{i}": [row[c.name] for row in rows] for i, c in enumerate(columns)}
    result = await conn.execute(text(sql), params)
    return {r[0] for r in result} if returning else set()
