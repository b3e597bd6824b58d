"""`db.cursor`: statements straight on psycopg, their errors as SQLAlchemy's, so a projection
retries an outage and tells a bad row from a lost server the same way it does for text().
`db.reading`: reads that keep the connection's prepared statements."""

from __future__ import annotations

import uuid

import pytest
from channelstream_common import db, testing
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

pytestmark = pytest.mark.integration


async def test_psycopg_errors_surface_as_sqlalchemy_errors_naming_the_statement(endpoints):
    name = f"db_cursor_{uuid.uuid4().hex[:8]}"
    engine = db.make_engine(testing.create_database(endpoints.postgres, name))
    try:
        async with engine.begin() as conn, db.cursor(conn, "create") as cur:
            await cur.execute("create table t (k int primary key); insert into t values (1)")

        async with engine.connect() as conn:
            with pytest.raises(IntegrityError) as duplicate:
                async with db.cursor(conn, "insert into t values (1)") as cur:
                    await cur.execute("insert into t values (1)")
        assert duplicate.value.statement == "insert into t values (1)"

        async with engine.connect() as conn:
            with pytest.raises(ProgrammingError, match="no_such_table"):
                async with db.cursor(conn, "select") as cur:
                    await cur.execute("select * from no_such_table")

        async with engine.connect() as conn:
            async with db.cursor(conn, "select") as cur:
                await cur.execute("select pg_backend_pid()")
                (pid,) = await cur.fetchone()
            async with engine.connect() as other:
                await other.exec_driver_sql(f"select pg_terminate_backend({pid})")
            with pytest.raises(OperationalError):  # the server went away: retried, not a bad row
                async with db.cursor(conn, "select 1") as cur:
                    await cur.execute("select 1")
            await conn.invalidate()
    finally:
        await engine.dispose()
        testing.drop_database(endpoints.postgres, name)


PREPARED = text("select count(*) from pg_prepared_statements")


async def test_reads_through_reading_keep_the_statements_psycopg_prepared(endpoints):
    """psycopg prepares a statement at its fifth run on a connection and forgets them all at a
    ROLLBACK, which is how engine.connect() ends: there, nothing ever stays prepared."""
    name = f"db_reading_{uuid.uuid4().hex[:8]}"
    engine = db.make_engine(testing.create_database(endpoints.postgres, name), pool_size=1)
    query = text("select relname from pg_class where relname = :n")
    try:
        for _ in range(6):
            async with engine.connect() as conn:
                await conn.execute(query, {"n": "pg_class"})
        async with db.reading(engine) as conn:
            assert await conn.scalar(PREPARED) == 0

        for _ in range(6):
            async with db.reading(engine) as conn:
                await conn.execute(query, {"n": "pg_class"})
        async with db.reading(engine) as conn:
            assert await conn.scalar(PREPARED) == 1
    finally:
        await engine.dispose()
        testing.drop_database(endpoints.postgres, name)
