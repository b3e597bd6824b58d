"""Micro-benchmark of the transactional outbox alone: staging N SellThroughReported events in
transactions of --batch (as sellthrough does for an upload), then the relay publishing them to
Kafka and marking them. Prints rows/s for each half and the PostgreSQL CPU both cost.

    uv run python -m bench.outbox                    # 50 000 events, batches of 5 000
    uv run python -m bench.outbox --events 20000 --profile /tmp/outbox.prof

Needs the local stack (or the CHANNELSTREAM_* endpoints); topics under the prefix `obbench.`
(created once, reused), a fresh database each run.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from channelstream_common import testing
from channelstream_common.admin import ensure_topics, register_schemas
from channelstream_common.db import make_engine
from channelstream_common.events import derived_id
from channelstream_common.outbox import OUTBOX_DDL, Outbox
from channelstream_common.publisher import EventPublisher
from channelstream_common.serde import AvroSerde
from channelstream_common.topics import SELL_THROUGH_REPORTED

from bench.cluster import drop_database, endpoints
from bench.cpu import _postgres

PREFIX = "obbench."
T0 = datetime(2026, 5, 1, tzinfo=UTC)


def line(n: int) -> dict[str, Any]:
    at = T0 + timedelta(milliseconds=n)
    d, r = f"D-{n % 7:02d}", f"R-{n % 400:04d}"
    raw = f"REP-{n // 5000},{n},{d},{r},SKU-{n % 90:04d},{n % 9 + 1},{n % 997}.25,USD,2026-05-03"
    return {
        "metadata": {
            "event_id": derived_id("obbench", n),
            "occurred_at": at,
            "recorded_at": at,
            "producer": "sellthrough",
            "correlation_id": f"upload-{n // 5000}",
            "causation_id": None,
            "trace_id": None,
        },
        "report_id": f"REP-{n // 5000}",
        "line_no": n,
        "distributor_id": d,
        "reseller_id": r,
        "sku": f"SKU-{n % 90:04d}",
        "product_line": "SERVERS",
        "quantity": n % 9 + 1,
        "unit_price": Decimal(f"{n % 997}.2500"),
        "currency": "USD",
        "sold_on": date(2026, 5, 3),
        "end_customer_name": "Acme GmbH",
        "end_customer_country": "DE",
        "deal_id": None,
        "upload_id": f"upload-{n // 5000}",
        "ingestion_path": "HTTP",
        "submitted_by": "bench",
        "raw_line": raw,
        "line_hash": f"{n:064x}",
        "end_customer_domain": None,
    }


async def main(args: argparse.Namespace) -> None:
    e = endpoints()
    await ensure_topics(e.kafka, PREFIX, [SELL_THROUGH_REPORTED])
    serde = AvroSerde(e.registry, PREFIX)
    await register_schemas(serde, [SELL_THROUGH_REPORTED])
    url = testing.create_database(e.postgres, "obbench")
    engine = make_engine(url)
    async with engine.begin() as conn:
        for ddl in OUTBOX_DDL:
            await conn.exec_driver_sql(ddl)
    publisher = EventPublisher(e.kafka, serde, "sellthrough")
    await publisher.start()
    outbox = Outbox(engine, publisher)
    values = [line(n) for n in range(args.events)]
    profiler = cProfile.Profile() if args.profile else None
    try:
        pg0, t0 = _postgres(), time.perf_counter()
        if profiler:
            profiler.enable()
        for i in range(0, len(values), args.batch):
            async with engine.begin() as conn:
                await outbox.add(
                    conn, [(SELL_THROUGH_REPORTED, v) for v in values[i : i + args.batch]]
                )
        pg1, t1 = _postgres(), time.perf_counter()
        published = await outbox.flush()
        pg2, t2 = _postgres(), time.perf_counter()
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        assert published == args.events, published
        n = args.events
        for half, rate, pg in (("stage", t1 - t0, pg1 - pg0), ("relay", t2 - t1, pg2 - pg1)):
            print(f"{half}: {n / rate:9,.0f} rows/s   PostgreSQL {pg / n * 1e6:6.1f} µs/row")
    finally:
        await publisher.stop()
        await serde.close()
        await engine.dispose()
        drop_database(e.postgres, "obbench")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--events", type=int, default=50_000)
    p.add_argument("--batch", type=int, default=5_000)
    p.add_argument("--profile", help="write cProfile stats of both halves here")
    asyncio.run(main(p.parse_args()))
