"""Micro-benchmark of analytics' facts projection alone: deterministic, already decoded events
applied in batches through `ProjectionStore.apply` (the transaction a live batch or a replay
uses) into a fresh database — no Kafka, no Avro, so the handler and its SQL are all that is
measured. Prints events/s overall and for the first and last fifth of the batches (equal rates
mean the work per event does not grow with the data), and an order-independent checksum of
every table the projection writes, so two implementations (or two arrival orders) can be
checked for identical results.

    uv run python -m bench.analytics_projection --lines 100000
    uv run python -m bench.analytics_projection --lines 20000 --shuffle   # another order
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import os
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from analytics.bootstrap import MIGRATIONS
from analytics.entrypoints.consumers import PROJECTION, facts_handler
from channelstream_common import migrations, replay, testing
from channelstream_common.db import make_engine
from channelstream_common.events import Envelope
from channelstream_common.projection import ProjectionStore
from channelstream_common.settings import Settings
from channelstream_common.topics import (
    DEAL_REGISTERED,
    PARTNER_ENROLLED,
    REBATE_ACCRUED,
    SELL_IN_RECORDED,
    SELL_THROUGH_REJECTED,
    SELL_THROUGH_REPORTED,
    Topic,
)
from sqlalchemy import text

PREFIX = "micro."
SKUS = [f"SKU-{i:03d}" for i in range(21)]
MONTHS = [date(2026, m, 1) for m in range(4, 10)]  # 2026-Q2 and Q3


class Events:
    """The same events for the same (lines, seed): ids from a seeded generator."""

    def __init__(self, lines: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.offsets: dict[str, int] = {}
        self.out: list[Envelope] = []
        self.lines = lines

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def meta(self, producer: str, day: date) -> dict[str, Any]:
        at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        eid = self.uid()
        return {
            "event_id": eid,
            "occurred_at": at,
            "recorded_at": at,
            "producer": producer,
            "correlation_id": eid,
            "causation_id": None,
            "trace_id": None,
        }

    def emit(self, topic: Topic, value: dict[str, Any], key: str) -> None:
        name = topic.full_name(PREFIX)
        partition = int(hashlib.md5(key.encode()).hexdigest(), 16) % 3
        tp = f"{name}/{partition}"
        offset = self.offsets.get(tp, 0)
        self.offsets[tp] = offset + 1
        self.out.append(Envelope(name, partition, offset, key.encode(), value, 0))

    def build(self) -> list[Envelope]:
        rng = self.rng
        distributors = [f"D-{i:02d}" for i in range(4)]
        weights = [0.4, 0.3, 0.2, 0.1]
        resellers = [f"R-{i:04d}" for i in range(400)]
        parent = {r: rng.choice(distributors) for r in resellers}
        day0 = date(2026, 3, 1)
        for p in distributors + resellers:
            self.emit(
                PARTNER_ENROLLED,
                {
                    "metadata": self.meta("onboarding", day0),
                    "partner_id": p,
                    "legal_name": f"{p} Ltd",
                    "partner_type": "DISTRIBUTOR" if p.startswith("D") else "RESELLER",
                    "tier": "GOLD",
                    "parent_distributor_id": parent.get(p),
                    "territories": ["US"],
                    "enrolled_on": day0,
                },
                p,
            )
        deals = {}
        for r in resellers[::10]:
            deal = f"DL-{r}"
            deals[r] = deal
            self.emit(
                DEAL_REGISTERED,
                {
                    "metadata": self.meta("dealreg", day0),
                    "deal_id": deal,
                    "partner_id": r,
                    "customer_key": f"c-{r}",
                    "customer": {"name": f"Customer {r}", "country": "US"},
                    "estimated_value": Decimal("10000.00"),
                    "currency": "USD",
                    "expected_close_on": date(2026, 9, 30),
                    "registered_on": day0,
                    "protection_expires_on": day0 + timedelta(days=90),
                },
                deal,
            )
        ship = 0
        for d in distributors:
            for sku in SKUS:
                for month in (MONTHS[0], MONTHS[3]):
                    ship += 1
                    self.emit(
                        SELL_IN_RECORDED,
                        {
                            "metadata": self.meta("sellthrough", month),
                            "shipment_id": f"S-{ship}",
                            "distributor_id": d,
                            "sku": sku,
                            "quantity": rng.randrange(100, 5000),
                            "unit_cost": Decimal(rng.randrange(100, 90000)) / 100,
                            "currency": "USD",
                            "shipped_on": month,
                            "upload_id": None,
                            "ingestion_path": "HTTP",
                        },
                        d,
                    )
        per_report = 5000
        reports = []
        left = self.lines
        while left > 0:
            n = min(per_report, left)
            reports.append((rng.choices(distributors, weights)[0], n))
            left -= n
        for i, (d, n) in enumerate(reports):
            month = MONTHS[min(i * len(MONTHS) // len(reports), len(MONTHS) - 1)]
            report = f"RPT-{i}"
            for no in range(1, n + 1):
                r = rng.choice(resellers)
                day = month + timedelta(rng.randrange(28))
                if rng.random() < 0.003:
                    self.emit(
                        SELL_THROUGH_REJECTED,
                        {
                            "metadata": self.meta("sellthrough", day),
                            "report_id": report,
                            "line_no": no,
                            "distributor_id": d,
                            "reason": "UNKNOWN_SKU",
                            "detail": "no such SKU",
                            "raw_line": f"{report},{no},{d},{r},NOPE,1",
                            "upload_id": None,
                            "ingestion_path": "HTTP",
                        },
                        d,
                    )
                    continue
                qty = -rng.randrange(1, 3) if rng.random() < 0.03 else rng.randrange(1, 20)
                price = Decimal(rng.randrange(1000, 900000)) / (
                    10000 if rng.random() < 0.1 else 100
                )
                deal = deals.get(r) if rng.random() < 0.35 else None
                line_meta = self.meta("sellthrough", day)
                self.emit(
                    SELL_THROUGH_REPORTED,
                    {
                        "metadata": line_meta,
                        "report_id": report,
                        "line_no": no,
                        "distributor_id": d,
                        "reseller_id": r,
                        "sku": rng.choice(SKUS),
                        "product_line": "Core",
                        "quantity": qty,
                        "unit_price": price,
                        "currency": "USD",
                        "sold_on": day,
                        "end_customer_name": None,
                        "end_customer_country": "US",
                        "deal_id": deal,
                        "upload_id": None,
                        "ingestion_path": "HTTP",
                        "submitted_by": "bench",
                        "raw_line": "x",
                        "line_hash": "h",
                        "end_customer_domain": None,
                    },
                    d,
                )
                basis = qty * price
                self.emit(
                    REBATE_ACCRUED,
                    {
                        "metadata": self.meta("incentives", day),
                        "accrual_id": self.uid(),
                        "partner_id": d,
                        "program_id": "default",
                        "program_version": 1,
                        "period": f"{day.year}-Q{(day.month - 1) // 3 + 1}",
                        "reason": "BASE",
                        "basis_amount": basis,
                        "rate": Decimal("0.010000"),
                        "amount": (basis / 100).quantize(Decimal("0.01")),
                        "source_event_id": line_meta["event_id"],
                        "source_topic": "sellthrough.sell-through-reported",
                        "deal_id": None,
                        "sold_on": day,
                        "line_event_id": line_meta["event_id"],
                        "currency": "USD",
                    },
                    d,
                )
        return self.out


def resent(events: list[Envelope], share: float, rng: random.Random) -> list[Envelope]:
    """Each event, with probability `share`, sent again a little later at a new offset."""
    out: list[Envelope] = []
    later: list[tuple[int, Envelope]] = []
    offsets: dict[tuple[str, int], int] = {}

    def send(e: Envelope) -> None:
        offset = offsets.get((e.topic, e.partition), 0)
        offsets[(e.topic, e.partition)] = offset + 1
        out.append(dataclasses.replace(e, offset=offset))

    for i, e in enumerate(events):
        while later and later[0][0] <= i:
            send(later.pop(0)[1])
        send(e)
        if rng.random() < share:
            later.append((i + rng.randrange(1, 3000), e))
            later.sort(key=lambda p: p[0])
    for _, e in later:
        send(e)
    return out


def reordered(events: list[Envelope], rng: random.Random) -> list[Envelope]:
    """The same events in a random order, as if they had been written to their partitions in
    that order (offsets renumbered, so none is skipped as already applied)."""
    out = events[:]
    rng.shuffle(out)
    offsets: dict[tuple[str, int], int] = {}
    for i, e in enumerate(out):
        offset = offsets.get((e.topic, e.partition), 0)
        offsets[(e.topic, e.partition)] = offset + 1
        out[i] = dataclasses.replace(e, offset=offset)
    return out


async def checksums(engine: Any, tables: list[str]) -> dict[str, str]:
    out = {}
    async with engine.connect() as conn:
        for table in tables:
            out[table] = await conn.scalar(
                text(
                    "select md5(coalesce(string_agg(t::text, '|' order by t::text), ''))"
                    f" from {table} t"
                )
            )
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--shuffle", action="store_true", help="events in a random order")
    parser.add_argument(
        "--resend",
        type=float,
        default=0.0,
        help="this share of the events sent a second time at new offsets (a relay re-sending)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()

    events = Events(args.lines, args.seed).build()
    if args.resend:
        events = resent(events, args.resend, random.Random(args.seed + 2))
    if args.shuffle:
        events = reordered(events, random.Random(args.seed + 1))
    postgres = Settings.from_env("analytics").database_url.rsplit("/", 1)[0]
    name = f"analytics_micro_{os.getpid()}"
    url = testing.create_database(postgres, name)
    migrations.upgrade(url, MIGRATIONS)
    engine = make_engine(url)
    store = ProjectionStore(engine, PROJECTION)
    await store.setup()
    handler = facts_handler(PREFIX)
    per_batch: list[tuple[int, float]] = []
    started = time.perf_counter()
    try:
        for i in range(0, len(events), args.batch):
            mark = time.perf_counter()
            n = await store.apply(events[i : i + args.batch], handler)
            per_batch.append((n, time.perf_counter() - mark))
        seconds = time.perf_counter() - started
        print(f"{len(events)} events in {seconds:.2f} s: {len(events) / seconds:,.0f} events/s")
        fifth = max(len(per_batch) // 5, 1)
        for label, part in (("first", per_batch[:fifth]), ("last", per_batch[-fifth:])):
            n, s = sum(p[0] for p in part), sum(p[1] for p in part)
            ms = s / len(part) * 1000
            print(f"{label} fifth of the batches: {n / s:,.0f} events/s, {ms:.1f} ms/batch")
        tables = [
            "partners",
            "sell_through_lines",
            "sell_in_shipments",
            "deals",
            "deal_rejections",
            "sell_through_rejections",
            "rebate_accruals",
            "inventory_positions",
            "sell_through_daily",
            "distributor_as_of",
        ]
        present = set(await replay.tables_of(engine))
        tables = [t for t in tables if t in present]
        for table, digest in (await checksums(engine, tables)).items():
            print(f"  {table:25} {digest}")
        async with engine.connect() as conn:
            view = await conn.scalar(
                text(
                    "select md5(string_agg(t::text, '|' order by t::text)) from"
                    " (select * from bi.inventory_position) t"
                )
            )
        print(f"  {'bi.inventory_position':25} {view}")
    finally:
        await engine.dispose()
        if not args.keep:
            testing.drop_database(postgres, name)


if __name__ == "__main__":
    asyncio.run(main())
