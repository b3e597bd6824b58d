"""Baselines measured in the same run.

(a) The raw single-hop floor: one aiokafka consumer reads the SellThroughReported events with
    getmany, parses the Confluent framing itself (magic byte, 4-byte schema id; the writer schema
    fetched from the registry once), decodes with fastavro and COPYs into PostgreSQL.
(b) The batch alternative: COPY the raw report CSV files into PostgreSQL and compute the three
    views (inventory per distributor x SKU, rebate E(R) per distributor x quarter plus deal
    bonuses, scorecard revenue/units per partner x quarter) with SQL.
"""

from __future__ import annotations

import io
import json
import struct
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import fastavro
import httpx
import psycopg
from aiokafka import AIOKafkaConsumer, TopicPartition
from channelstream_common.topics import SELL_THROUGH_REPORTED

from bench.cluster import Cluster, plain_url
from bench.dataset import CATALOG, REPORT_HEADER, SHIPMENT_HEADER, Dataset
from bench.views import _diff

HEADER = struct.Struct(">bI")
FLOOR_COLUMNS = (
    "event_id",
    "report_id",
    "line_no",
    "distributor_id",
    "reseller_id",
    "sku",
    "quantity",
    "unit_price",
    "sold_on",
    "deal_id",
)


@dataclass
class Floor:
    events: int = 0
    seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


@dataclass
class Batch:
    lines: int = 0
    copy_seconds: float = 0.0
    sql_seconds: float = 0.0
    matches_expected: bool = False
    differences: dict[str, str] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return self.copy_seconds + self.sql_seconds


async def _writer_schema(registry: str, schema_id: int) -> Any:
    async with httpx.AsyncClient() as client:
        r = await client.get(f"{registry}/schemas/ids/{schema_id}")
        r.raise_for_status()
        return fastavro.parse_schema(json.loads(r.json()["schema"]))


async def end_offsets(cluster: Cluster) -> dict[int, int]:
    """partition -> end offset of the SellThroughReported topic now (the floor reads up to it)."""
    topic = SELL_THROUGH_REPORTED.full_name(cluster.prefix)
    consumer = AIOKafkaConsumer(bootstrap_servers=cluster.endpoints.kafka)
    await consumer.start()
    try:
        parts = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        return {tp.partition: offset for tp, offset in (await consumer.end_offsets(parts)).items()}
    finally:
        await consumer.stop()


async def raw_floor(
    cluster: Cluster, until: dict[int, int] | None = None, batch: int = 10_000
) -> Floor:
    """`until`: partition -> end offset to read to (the end-to-end phase's events only, though
    the floor runs after freshness); the topic's end when None."""
    topic = SELL_THROUGH_REPORTED.full_name(cluster.prefix)
    url = plain_url(cluster.database("floor"))
    async with await psycopg.AsyncConnection.connect(url) as conn:
        await conn.execute(
            "create table floor_lines (event_id text, report_id text, line_no bigint,"
            " distributor_id text, reseller_id text, sku text, quantity integer,"
            " unit_price numeric(18, 4), sold_on date, deal_id text)"
        )
        await conn.commit()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=cluster.endpoints.kafka,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=8 * 1024 * 1024,
            fetch_max_bytes=64 * 1024 * 1024,
        )
        await consumer.start()
        result = Floor()
        writers: dict[int, Any] = {}
        try:
            parts = [
                TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
            ]
            end = await consumer.end_offsets(parts)
            if until is not None:
                end = {tp: until.get(tp.partition, 0) for tp in parts}
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            remaining = {tp for tp in parts if end[tp] > 0}
            started = time.perf_counter()
            while remaining:
                fetched = await consumer.getmany(*remaining, timeout_ms=1000, max_records=batch)
                rows = []
                for tp, records in fetched.items():
                    for rec in records:
                        if rec.offset >= end[tp]:
                            continue
                        _, schema_id = HEADER.unpack_from(rec.value)
                        writer = writers.get(schema_id)
                        if writer is None:
                            writer = writers[schema_id] = await _writer_schema(
                                cluster.endpoints.registry, schema_id
                            )
                        v: Any = fastavro.schemaless_reader(io.BytesIO(rec.value[5:]), writer, None)
                        rows.append((v["metadata"]["event_id"], *(v[c] for c in FLOOR_COLUMNS[1:])))
                    if records and records[-1].offset >= end[tp] - 1:
                        remaining.discard(tp)
                if rows:
                    async with (
                        conn.cursor() as cur,
                        cur.copy(
                            f"copy floor_lines ({', '.join(FLOOR_COLUMNS)}) from stdin"
                        ) as copy,
                    ):
                        for row in rows:
                            await copy.write_row(row)
                    await conn.commit()
                    result.events += len(rows)
            result.seconds = time.perf_counter() - started
        finally:
            await consumer.stop()
    return result


BATCH_SQL = [
    """create function half_even(x numeric) returns numeric language sql immutable as $$
        select case when abs(x * 100 - trunc(x * 100)) = 0.5
            then (trunc(x * 100) + case when mod(trunc(x * 100), 2) = 0 then 0 else sign(x) end)
                 / 100
            else round(x, 2) end $$""",
    """create table lines as
        select report_id, line_no, distributor_id, reseller_id, sku, q as quantity,
               unit_price::numeric(18, 4) as unit_price, sold_on::date as sold_on,
               nullif(deal_id, '') as deal_id,
               extract(year from sold_on::date) || '-Q' || extract(quarter from sold_on::date)
                   as quarter
        from (select *, case when quantity ~ '^[+-]?[0-9]{1,9}$' then quantity::integer end as q
              from raw_lines) l
        where q <> 0 and currency = 'USD' and unit_price ~ '^[0-9]+(\\.[0-9]{1,4})?$'
          and sold_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' and sku in (select sku from catalog)""",
    """create table view_inventory as
        select distributor_id, sku, coalesce(i.units, 0) as sell_in_units,
               coalesce(t.units, 0) as sell_through_units
        from (select distributor_id, sku, sum(quantity) as units from lines group by 1, 2) t
        full join (select distributor_id, sku, sum(quantity::integer) as units
                   from raw_shipments group by 1, 2) i using (distributor_id, sku)""",
    """create table view_rebates as
        select partner_id, quarter, sum(amount) as amount from (
            select distributor_id as partner_id, quarter, half_even(
                case when rev >= 500000 then 0.03 when rev >= 100000 then 0.02 else 0.01 end
                * rev) as amount
            from (select distributor_id, quarter, sum(quantity * unit_price) as rev
                  from lines group by 1, 2) r
            union all
            select l.reseller_id, l.quarter, half_even(0.02 * l.quantity * l.unit_price)
            from lines l join deals d on d.deal_id = l.deal_id and d.partner_id = l.reseller_id
                and l.sold_on between d.registered_on and d.expires_on
        ) a group by 1, 2""",
    """create table view_scorecards as
        select distributor_id as partner_id, quarter, sum(quantity) as units,
               half_even(sum(quantity * unit_price)) as revenue from lines group by 1, 2
        union all
        select reseller_id, quarter, sum(quantity), half_even(sum(quantity * unit_price))
        from lines group by 1, 2""",
]


def _text_columns(header: str) -> str:
    return ", ".join(f"{name} text" for name in header.split(","))


async def _copy_file(conn: psycopg.AsyncConnection[Any], table: str, data: bytes) -> None:
    async with (
        conn.cursor() as cur,
        cur.copy(f"copy {table} from stdin with (format csv, header true)") as copy,
    ):
        await copy.write(data)


async def batch_sql(cluster: Cluster, ds: Dataset) -> Batch:
    url = plain_url(cluster.database("batch"))
    result = Batch(lines=ds.expected.lines + ds.expected.rejected)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(f"create table raw_lines ({_text_columns(REPORT_HEADER)})")
        await conn.execute(f"create table raw_shipments ({_text_columns(SHIPMENT_HEADER)})")
        await conn.execute(
            "create table catalog (sku text, description text, list_price text, product_line text)"
        )
        await conn.execute(
            "create table deals (deal_id text, partner_id text,"
            " registered_on date, expires_on date)"
        )
        started = time.perf_counter()
        for path in ds.reports:
            await _copy_file(conn, "raw_lines", path.read_bytes())
        await _copy_file(conn, "raw_shipments", ds.shipments.read_bytes())
        await _copy_file(conn, "catalog", CATALOG.read_bytes())
        async with conn.cursor() as cur, cur.copy("copy deals from stdin") as copy:
            for d in ds.deals:
                w = d.window
                await copy.write_row((d.deal_id, d.partner_id, w.registered_on, w.expires_on))
        result.copy_seconds = time.perf_counter() - started
        started = time.perf_counter()
        for sql in BATCH_SQL:
            await conn.execute(sql)  # type: ignore[arg-type]
        result.sql_seconds = time.perf_counter() - started
        await _compare(conn, ds, result)
    return result


async def _compare(conn: psycopg.AsyncConnection[Any], ds: Dataset, result: Batch) -> None:
    """The batch answer is also a cross-check of the harness's own expectations."""
    ex = ds.expected
    cur = await conn.execute(
        "select distributor_id, sku, sell_in_units, sell_through_units from view_inventory"
    )
    inventory = {(d, s): (int(i), int(t)) for d, s, i, t in await cur.fetchall()}
    cur = await conn.execute("select partner_id, quarter, amount from view_rebates")
    rebates = {(p, q): Decimal(a) for p, q, a in await cur.fetchall() if a}
    cur = await conn.execute("select partner_id, quarter, units, revenue from view_scorecards")
    cards = {(p, q): (int(u), Decimal(r)) for p, q, u, r in await cur.fetchall()}
    for name, seen, want in (
        ("inventory", inventory, ex.inventory()),
        ("rebates", rebates, ex.rebates()),
        ("scorecards", cards, ex.scorecards()),
    ):
        if seen != want:
            result.differences[name] = _diff(seen, want)
    result.matches_expected = not result.differences
