"""Database engines: SQLAlchemy 2 async over psycopg 3."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def make_engine(url: str, *, pool_size: int = 5) -> AsyncEngine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_async_engine(url, pool_size=pool_size, max_overflow=5, pool_pre_ping=True)


def sync_url(url: str) -> str:
    """The same database for synchronous tools (Alembic, psql-style checks)."""
    return url.replace("postgresql+psycopg://", "postgresql+psycopg://", 1)
