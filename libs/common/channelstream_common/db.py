"""Database engines: SQLAlchemy 2 async over psycopg 3."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import psycopg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine


def make_engine(url: str, *, pool_size: int = 5) -> AsyncEngine:
    """Keeps `pool_size` connections; 5 more open for a burst and close when returned."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_async_engine(url, pool_size=pool_size, max_overflow=5, pool_pre_ping=True)


def reading(engine: AsyncEngine) -> AbstractAsyncContextManager[AsyncConnection]:
    """A connection for reads whose transaction ends in COMMIT. `engine.connect()` ends in
    ROLLBACK, and psycopg forgets every statement prepared on a connection at a ROLLBACK: a pool
    whose connections also serve reads that way plans every statement on every run, the
    projections' included (bi.scorecard_quarterly: 9-13 ms of planning, ~2 ms to run)."""
    return engine.begin()


async def driver(conn: AsyncConnection) -> Any:
    """The psycopg AsyncConnection under a SQLAlchemy connection (the same transaction), for
    COPY and statements SQLAlchemy would only slow down."""
    raw = await conn.get_raw_connection()
    return raw.driver_connection


@asynccontextmanager
async def cursor(conn: AsyncConnection, statement: str) -> AsyncIterator[Any]:
    """A psycopg cursor in `conn`'s transaction. A psycopg error raised inside surfaces as
    SQLAlchemy's DBAPIError subclass naming `statement` (an outage as OperationalError), so
    callers retry it like any other statement's instead of dead-lettering the batch."""
    try:
        async with (await driver(conn)).cursor() as cur:
            yield cur
    except psycopg.Error as exc:
        raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc


def sync_url(url: str) -> str:
    """The same database for synchronous tools (Alembic, psql-style checks)."""
    return url.replace("postgresql+psycopg://", "postgresql+psycopg://", 1)


def create_database(server_url: str, name: str) -> str:
    """Create (or recreate) database `name` on the server of `server_url` (a URL without a
    database); returns its SQLAlchemy URL."""
    drop_database(server_url, name)
    with _admin(server_url) as conn:
        conn.execute(f'create database "{name}"')
    return f"{server_url}/{name}"


def drop_database(server_url: str, name: str) -> None:
    """Drop a database if it is there, disconnecting whoever is still on it."""
    with _admin(server_url) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def _admin(server_url: str) -> Any:
    import psycopg

    plain = server_url.replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(f"{plain}/postgres", autocommit=True)
