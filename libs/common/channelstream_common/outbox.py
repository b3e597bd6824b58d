"""Transactional outbox: a decision and the event announcing it commit in one database
transaction; the relay then publishes pending rows (at least once, in id order).

Consumers must therefore be idempotent on the event's natural key or event_id, not only on
offsets: a relay that dies between send and mark re-sends the row.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from channelstream_common import telemetry, tracing
from channelstream_common.events import cloudevent_headers
from channelstream_common.publisher import BatchedSends, EventPublisher, OwnershipError, key_of
from channelstream_common.topics import Topic

log = logging.getLogger(__name__)
COPY_THRESHOLD = 50  # from this many events, COPY beats a multi-row insert

OUTBOX_DDL = [
    """create table if not exists outbox (
        id bigserial primary key,
        topic text not null,
        key bytea,
        value bytea not null,
        headers jsonb not null,
        event_id text not null unique,
        created_at timestamptz not null default now(),
        published_at timestamptz
    )""",
    "create index if not exists outbox_pending on outbox (id) where published_at is null",
]


class Outbox:
    def __init__(self, engine: AsyncEngine, publisher: EventPublisher) -> None:
        self.engine = engine
        self.publisher = publisher
        self._kick = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def add(self, conn: AsyncConnection, items: list[tuple[Topic, dict[str, Any]]]) -> None:
        """Stage events inside the caller's transaction."""
        if len(items) >= COPY_THRESHOLD:
            await self.add_bulk(conn, items)
            return
        rows = await self._rows(items)
        if rows:
            await conn.execute(
                text(
                    "insert into outbox (topic, key, value, headers, event_id)"
                    " values (:topic, :key, :value, cast(:headers as jsonb), :event_id)"
                ),
                rows,
            )

    async def add_bulk(
        self, conn: AsyncConnection, items: list[tuple[Topic, dict[str, Any]]]
    ) -> None:
        """Like add(), with COPY: for hot paths staging hundreds of events at a time."""
        rows = await self._rows(items)
        if not rows:
            return
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        statement = "copy outbox (topic, key, value, headers, event_id) from stdin"
        try:
            async with driver.cursor() as cur, cur.copy(statement) as copy:
                for r in rows:
                    await copy.write_row(
                        (r["topic"], r["key"], r["value"], r["headers"], r["event_id"])
                    )
        except psycopg.Error as exc:  # as SQLAlchemy's, so an outage is retried, not dead-lettered
            raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc

    async def _rows(self, items: list[tuple[Topic, dict[str, Any]]]) -> list[dict[str, Any]]:
        serde = self.publisher.serde
        rows = []
        for topic, value in items:
            if topic.owner != self.publisher.service:
                raise OwnershipError(f"{self.publisher.service} may not write {topic.name}")
            assert topic.value_schema
            meta = value["metadata"]
            headers = [[k, v.decode()] for k, v in cloudevent_headers(topic.value_schema, meta)]
            parent = tracing.traceparent(meta)
            if parent:
                headers.append(["traceparent", parent])
            rows.append(
                {
                    "topic": topic.full_name(serde.prefix),
                    "key": key_of(topic, value),
                    "value": serde.encode_with(await serde.schema_id(topic), topic, value),
                    "headers": json.dumps(headers),
                    "event_id": meta["event_id"],
                }
            )
        return rows

    async def flush(self, limit: int = 5000) -> int:
        """Publish pending rows now; returns how many were published."""
        total = 0
        async with self._lock:
            while True:
                async with self.engine.begin() as conn:
                    rows = (
                        await conn.execute(
                            text(
                                "select id, topic, key, value, headers from outbox"
                                " where published_at is null order by id limit :n"
                                " for update skip locked"
                            ),
                            {"n": limit},
                        )
                    ).all()
                    if not rows:
                        return total
                    sends = BatchedSends(self.publisher.producer)
                    for r in rows:
                        await self._send(sends, r.topic, r.key, r.value, r.headers)
                    await sends.wait()
                    await conn.execute(
                        text("update outbox set published_at = now() where id = any(:ids)"),
                        {"ids": [r.id for r in rows]},
                    )
                total += len(rows)

    @staticmethod
    async def _send(
        sends: BatchedSends, topic: str, key: bytes | None, value: bytes, headers: list[list[str]]
    ) -> None:
        """A sampled trace is continued through the instrumented send (a producer span that
        injects its own traceparent); anything else goes out batched, its traceparent as is."""
        key = bytes(key) if key is not None else None
        parent = next((v for k, v in headers if k == "traceparent"), None)
        if parent and tracing.sampled(parent) and telemetry.tracing_configured():
            with tracing.continuing(parent):
                kept = [(k, v.encode()) for k, v in headers if k != "traceparent"]
                await sends.send(topic, key, bytes(value), kept)
            return
        await sends.add(topic, key, bytes(value), [(k, v.encode()) for k, v in headers])

    def kick(self) -> None:
        self._kick.set()

    async def _run(self, interval: float) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), timeout=interval)
            self._kick.clear()
            try:
                await self.flush()
            except Exception:
                log.exception("outbox relay failed; retrying")
                await asyncio.sleep(1)

    def start(self, interval: float = 1.0) -> None:
        self._task = asyncio.create_task(self._run(interval), name="outbox-relay")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
