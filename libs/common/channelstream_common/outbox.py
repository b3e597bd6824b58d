"""Transactional outbox: a decision and the event announcing it commit in one database
transaction; the relay then publishes pending rows (at least once, in id order) and deletes them
in the transaction that took them, once Kafka has acknowledged every one.

Consumers must therefore be idempotent on the event's natural key or event_id, not only on
offsets: a relay that dies between the acknowledgement and its commit re-sends the rows.

The relay takes rows above the highest id it has covered (`_after`), so a take does not walk the
index entries of the rows deleted since the last vacuum (from id 0, the take cost ~175 ms a call at
1 M events). Ids are drawn at insert but transactions commit out of order, so a row can commit
below `_after`. PostgreSQL lists the writers that still may: a writer holds the outbox's
RowExclusiveLock from before it draws an id (a COPY or INSERT locks first) until after its commit
is visible, and pg_locks shows it (fast-path locks included). A pass reads the id sequence
(`last`; bigserial, cache 1), then the writers in flight, then takes (`_after`, `last`]: a row
there that it cannot see is a listed writer's (a writer not listed had ended, or draws ids above
`last`). A listed writer's ids lie above the `last` of the pass before it was first listed, so the
first pass after it has ended sweeps from there up to `_after`: a late commit is published by the
next pass (within the relay's interval; at once when kicked). `flush()` sweeps from 0, as does the
relay every `full_sweep` seconds (30), for rows that another replica's relay took and died
holding (back below `_after`, with no writer listed). A restarted relay starts from 0.

Rows are built for the relay's hot path: the value is the encoded record, the headers one text
of `key US value RS key US value ...` (ASCII unit/record separators; a split, where JSON cost the
relay ~30 µs a row), and a published row is deleted, not updated (no new row version, no index
entries: a third of the database's cost per event; bench/outbox.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from channelstream_common import telemetry, tracing
from channelstream_common.db import cursor, driver, reading
from channelstream_common.events import cloudevent_fields
from channelstream_common.publisher import BatchedSends, EventPublisher, OwnershipError, key_of
from channelstream_common.tasks import cancel_and_wait
from channelstream_common.topics import Topic

log = logging.getLogger(__name__)
US, RS = "\x1f", "\x1e"  # between a header's key and value; between headers
_CLEAN = str.maketrans({US: " ", RS: " "})

# The table as the services' first migrations created it (kept as it was: migrations are history).
OUTBOX_DDL_V1 = [
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
# v2: packed text headers, published rows deleted (so no pending index and no published_at), no
# unique event_id (it guarded nothing once rows are deleted; consumers deduplicate on it).
OUTBOX_TO_V2 = [
    "delete from outbox where published_at is not null",
    "drop index if exists outbox_pending",
    "alter table outbox drop constraint if exists outbox_event_id_key",
    "alter table outbox drop column published_at",
    "alter table outbox add column packed text",
    """update outbox set packed = coalesce((
        select string_agg(translate(h ->> 0, chr(30) || chr(31), '  ') || chr(31)
                          || translate(h ->> 1, chr(30) || chr(31), '  '), chr(30) order by n)
        from jsonb_array_elements(headers) with ordinality as e(h, n)), '')""",
    "alter table outbox drop column headers",
    "alter table outbox rename column packed to headers",
    "alter table outbox alter column headers set not null",
]
OUTBOX_DDL = [*OUTBOX_DDL_V1, *OUTBOX_TO_V2]  # the table as the migrations leave it (scratch DBs)
OUTBOX_FROM_V2 = [
    "alter table outbox add column unpacked jsonb",
    """update outbox set unpacked = coalesce((
        select jsonb_agg(jsonb_build_array(split_part(h, chr(31), 1),
                                           substr(h, length(split_part(h, chr(31), 1)) + 2))
                         order by n)
        from unnest(string_to_array(nullif(headers, ''), chr(30))) with ordinality as e(h, n)),
        '[]'::jsonb)""",
    "alter table outbox drop column headers",
    "alter table outbox rename column unpacked to headers",
    "alter table outbox alter column headers set not null",
    "alter table outbox add column published_at timestamptz",
    "alter table outbox add constraint outbox_event_id_key unique (event_id)",
    "create index outbox_pending on outbox (id) where published_at is null",
]


def upgrade_to_v2() -> None:
    """The body of each writer's outbox v2 migration (`upgrade = upgrade_to_v2`)."""
    from alembic import op

    for statement in OUTBOX_TO_V2:
        op.execute(statement)


def downgrade_from_v2() -> None:
    from alembic import op

    for statement in OUTBOX_FROM_V2:
        op.execute(statement)


_TAKE = (
    "delete from outbox where id = any(array(select id from outbox where id > %s and id <= %s"
    " order by id limit %s for update skip locked)) returning id, topic, key, value, headers"
)
# The take must walk the id index whatever the statistics say. Planned while the outbox looked
# tiny (a new database; a burst faster than autoanalyze, which many databases on one server
# slow down), `id in (...)` became a hash join over a seq scan plus a sort of the whole table,
# and the prepared statement kept that plan as the table grew: at 1 M staged rows one take ran
# for over 10 minutes (bench/RESULTS.md, round 5). With these off, and `= any(array(...))`
# leaving no join to choose, both scans are index scans at any size.
_TAKE_BY_INDEX = (
    "select set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true)"
)
_LAST_ID = (
    "select coalesce(pg_sequence_last_value(pg_get_serial_sequence('outbox', 'id')::regclass), 0)"
)
_WRITERS = (
    "select virtualtransaction from pg_locks where locktype = 'relation'"
    " and database = (select oid from pg_database where datname = current_database())"
    " and relation = 'outbox'::regclass and mode = 'RowExclusiveLock'"
    " and pid is distinct from pg_backend_pid()"
)


def _clean(value: str) -> str:
    return value.translate(_CLEAN) if US in value or RS in value else value


def pack_headers(headers: Iterable[tuple[str, str]]) -> str:
    """Headers as the outbox stores them; separators inside keys or values become spaces."""
    return RS.join(f"{_clean(k)}{US}{_clean(v)}" for k, v in headers)


class _Marker(str):
    def isoformat(self) -> str:  # stands in for recorded_at
        return self


_ID, _TIME = "\0ce_id\0", _Marker("\0ce_time\0")


@functools.lru_cache(maxsize=256)
def _template(event_type: str, producer: str) -> tuple[str, str, str]:
    """cloudevent_fields packed, split around the event id and the time: what is constant per
    (event type, producer) is packed once."""
    packed = pack_headers(
        cloudevent_fields(event_type, {"event_id": _ID, "recorded_at": _TIME, "producer": producer})
    )
    head, _, rest = packed.partition(_ID)
    middle, _, tail = rest.partition(_TIME)
    if rest.count(_TIME) != 1 or _ID in rest or _TIME in head:
        raise RuntimeError(f"the CloudEvents headers of {event_type} do not fit the template")
    return head, middle, tail


def unpack_headers(packed: str) -> list[tuple[str, bytes]]:
    if not packed:
        return []
    return [(k, v.encode()) for k, _, v in (h.partition(US) for h in packed.split(RS))]


class Outbox:
    def __init__(self, engine: AsyncEngine, publisher: EventPublisher) -> None:
        self.engine = engine
        self.publisher = publisher
        self._kick = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._after = 0  # rows up to this id are taken, but for those of `_writers`
        self._seen = 0  # the id sequence at the last pass
        self._writers: dict[str, int] = {}  # in flight at the last pass: id their rows are above
        # Set by a replay, which rebuilds state, not side effects: what its handlers stage was
        # published when the events were first applied, so staging it again would publish it twice.
        self.discarding = False

    async def add(
        self, conn: AsyncConnection, items: Iterable[tuple[Topic, dict[str, Any]]]
    ) -> None:
        """Stage events inside the caller's transaction, with one COPY (cheaper than an insert
        from the first row on). Discarding, `items` is not even iterated."""
        if not self.discarding:
            await self.add_rows(conn, await self.rows(items))

    async def add_rows(self, conn: AsyncConnection, rows: Sequence[tuple[Any, ...]]) -> None:
        """Stage ready rows: (topic name, key, value, packed headers, event_id)."""
        if not rows or self.discarding:
            return
        statement = "copy outbox (topic, key, value, headers, event_id) from stdin"
        async with cursor(conn, statement) as cur, cur.copy(statement) as copy:
            for row in rows:
                await copy.write_row(row)

    async def rows(self, items: Iterable[tuple[Topic, dict[str, Any]]]) -> list[tuple[Any, ...]]:
        serde, service = self.publisher.serde, self.publisher.service
        ids: dict[str, int] = {}
        rows = []
        for topic, value in items:
            if topic.owner != service:
                raise OwnershipError(f"{service} may not write {topic.name}")
            schema_id = ids.get(topic.name)
            if schema_id is None:
                schema_id = ids[topic.name] = await serde.schema_id(topic)
            meta = value["metadata"]
            rows.append(
                (
                    topic.full_name(serde.prefix),
                    key_of(topic, value),
                    serde.encode_with(schema_id, topic, value),
                    self._headers(topic, meta),
                    meta["event_id"],
                )
            )
        return rows

    @staticmethod
    def _headers(topic: Topic, meta: dict[str, Any]) -> str:
        """The CloudEvents headers (events.cloudevent_fields) and the traceparent, packed as
        pack_headers packs them, but from a per-(type, producer) template (~3 µs, not ~19)."""
        assert topic.value_schema
        head, middle, tail = _template(topic.value_schema, meta["producer"])
        at = meta["recorded_at"].isoformat()
        packed = f"{head}{_clean(meta['event_id'])}{middle}{_clean(at)}{tail}"
        parent = tracing.traceparent(meta)
        return f"{packed}{RS}traceparent{US}{_clean(parent)}" if parent else packed

    async def flush(self, limit: int = 5000) -> int:
        """Publish every row committed before the call (a sweep from id 0); returns how many."""
        return await self._pass(limit, full=True)

    async def _pass(self, limit: int, full: bool) -> int:
        """Sweep (from 0 if `full`, else from where a writer that has ended drew its ids) up to
        `_after`, then take (`_after`, the last id drawn before the pass]."""
        async with self._lock:
            async with reading(self.engine) as conn:
                cur = await (await driver(conn)).execute(_LAST_ID)
                ((last,),) = await cur.fetchall()
                cur = await cur.execute(_WRITERS)
                writers = {v for (v,) in await cur.fetchall()}
            ended = [above for v, above in self._writers.items() if v not in writers]
            lo = 0 if full else min(ended, default=self._after)
            total = await self._take(lo, self._after, limit)
            self._writers = {v: self._writers.get(v, self._seen) for v in writers}
            self._seen = last
            return total + await self._take(self._after, last, limit, advance=True)

    async def _take(self, lo: int, hi: int, limit: int, advance: bool = False) -> int:
        """Publish and delete the rows of (lo, hi], `limit` a transaction."""
        total = 0
        while lo < hi:
            async with self.engine.begin() as conn:
                async with (await driver(conn)).cursor(binary=True) as cur:
                    await cur.execute(_TAKE_BY_INDEX)
                    await cur.execute(_TAKE, (lo, hi, limit))
                    rows = await cur.fetchall()
                rows.sort()  # `returning` keeps no order; ids are the staging order
                sends = BatchedSends(self.publisher.producer)
                for _, topic, key, value, headers in rows:
                    await self._send(sends, topic, key, value, headers)
                await sends.wait()
            total += len(rows)
            lo = hi if len(rows) < limit else rows[-1][0]
            if advance:
                self._after = lo
        return total

    @staticmethod
    async def _send(
        sends: BatchedSends, topic: str, key: bytes | None, value: bytes, headers: str
    ) -> None:
        """A sampled trace is continued through the instrumented send (a producer span that
        injects its own traceparent); anything else goes out batched, its traceparent as is."""
        if "traceparent" in headers and telemetry.tracing_configured():
            unpacked = unpack_headers(headers)
            parent = next(v.decode() for k, v in unpacked if k == "traceparent")
            if tracing.sampled(parent):
                with tracing.continuing(parent):
                    kept = [(k, v) for k, v in unpacked if k != "traceparent"]
                    await sends.send(topic, key, value, kept)
                return
        await sends.add(topic, key, value, unpack_headers(headers))

    def kick(self) -> None:
        self._kick.set()

    async def _run(self, interval: float, full_sweep: float) -> None:
        loop = asyncio.get_running_loop()
        swept = loop.time()  # the first pass starts from id 0
        while True:
            # not wait_for: on 3.11 it swallows a cancel that arrives as the kick does, and the
            # relay then outlived stop(), which waited for it forever (a hung service shutdown)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await self._kick.wait()
            self._kick.clear()
            try:
                full = loop.time() - swept >= full_sweep
                await self._pass(5000, full)
                if full:
                    swept = loop.time()
            except Exception:
                log.exception("outbox relay failed; retrying")
                await asyncio.sleep(1)

    def start(self, interval: float = 1.0, full_sweep: float = 30.0) -> None:
        self._task = asyncio.create_task(self._run(interval, full_sweep), name="outbox-relay")

    async def stop(self) -> None:
        if self._task:
            await cancel_and_wait(self._task)
            self._task = None
