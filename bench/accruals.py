"""Micro-benchmark of the incentives accrual projection alone (no Kafka reads, no Avro decoding):
N synthetic SellThroughReported envelopes (plus the partners and deals they name) applied with
`ProjectionStore.apply` and the real handler into a fresh PostgreSQL database, in batches as a
replay would take them.

    uv run python -m bench.accruals                       # 50 000 lines, batches of 5 000
    uv run python -m bench.accruals --lines 20000 --batch 500 --profile /tmp/acc.prof
    uv run python -m bench.accruals --check               # late facts, two programs: digests

The run prints events/s of the projection and a digest of every table the projection writes
(and one of the outbox), so two implementations can be compared on the same input: the input is
deterministic for a given --lines, --seed, --late and --tiered. Needs the local stack (or the
CHANNELSTREAM_* endpoints): the outbox encodes RebateAccrued with the registry, under the fixed
topic prefix `accbench.` (created once, reused).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import os
import random
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from channelstream_common import testing
from channelstream_common.events import Envelope, derived_id
from channelstream_common.settings import Settings
from channelstream_common.topics import DEAL_REGISTERED, PARTNER_ENROLLED, SELL_THROUGH_REPORTED
from incentives.adapters.program_files import BUNDLED
from incentives.bootstrap import TABLES, bootstrap
from sqlalchemy import text

from bench.cluster import drop_database, endpoints

PREFIX = "accbench."
T0 = datetime(2026, 4, 1, tzinfo=UTC)
TIERED = """
id: partner-growth
version: 2
currency: USD
distributor_volume_rebate:
  rates_by_tier:
    GOLD: [{from: 0, rate: "0.015"}, {from: 50000, rate: "0.025"}]
    PLATINUM: [{from: 0, rate: "0.02"}, {from: 200000, rate: "0.03"}]
  product_lines: [SERVERS, STORAGE]
deal_registration_bonus:
  rate_by_tier: {SILVER: "0.05", GOLD: "0.04"}
"""
PRODUCT_LINES = ("SERVERS", "STORAGE", "NETWORKING", "ACCESSORIES", None)
TIERS = ("REGISTERED", "SILVER", "GOLD", "PLATINUM")


def _meta(kind: str, n: int, at: datetime, correlation: str | None = None) -> dict[str, Any]:
    event_id = derived_id("accbench", kind, n)
    return {
        "event_id": event_id,
        "occurred_at": at,
        "recorded_at": at,
        "producer": kind,
        "correlation_id": correlation or event_id,
        "causation_id": None,
        "trace_id": None,
    }


def events(lines: int, seed: int, late: float) -> list[tuple[str, int, dict[str, Any]]]:
    """(topic name, partition, value) in log order per topic-partition."""
    rng = random.Random(seed)
    distributors = [f"D-{i:02d}" for i in range(max(4, lines // 25_000))]
    resellers = [f"R-{i:04d}" for i in range(min(2_000, max(20, lines // 250)))]
    deal_holders = resellers[::10]
    deals = {r: f"DEAL-{i:04d}" for i, r in enumerate(deal_holders)}
    partners = [(d, "DISTRIBUTOR", TIERS[3 - i % 2]) for i, d in enumerate(distributors)] + [
        (r, "RESELLER", TIERS[rng.randrange(4)]) for r in resellers
    ]
    out: list[tuple[str, int, dict[str, Any]]] = []
    early_partners, late_partners = [], []
    for n, (pid, ptype, tier) in enumerate(partners):
        v = {
            "metadata": _meta("partner", n, T0 - timedelta(days=30, seconds=-n)),
            "partner_id": pid,
            "partner_type": ptype,
            "tier": tier,
        }
        (late_partners if rng.random() < late else early_partners).append(v)
    early_deals, late_deals = [], []
    for n, (r, deal_id) in enumerate(deals.items()):
        registered = date(2026, 4, 1) + timedelta(days=rng.randrange(120))
        v = {
            "metadata": _meta("deal", n, T0 + timedelta(days=rng.randrange(60), seconds=n)),
            "deal_id": deal_id,
            "partner_id": r if rng.random() < 0.95 else rng.choice(resellers),
            "registered_on": registered,
            "protection_expires_on": registered + timedelta(days=90),
        }
        (late_deals if rng.random() < late else early_deals).append(v)
    lines_out: list[tuple[str, int, dict[str, Any]]] = []
    for n in range(lines):
        d = distributors[rng.randrange(len(distributors))] if n % 7 else distributors[0]
        r = rng.choice(resellers)
        qty = -rng.randint(1, 3) if rng.random() < 0.03 else rng.randint(1, 10)
        places = Decimal("0.0001") if rng.random() < 0.1 else Decimal("0.01")
        price = (Decimal(rng.randint(500, 900_000)) / 100).quantize(places)
        sold_on = date(2026, 4, 1) + timedelta(days=rng.randrange(183))
        deal = deals.get(r) if rng.random() < 0.35 else None
        if deal is None and rng.random() < 0.002:
            deal = "DEAL-UNKNOWN"
        at = T0 + timedelta(seconds=n)
        report = f"REP-{d}-{n // 5000}"
        value = {
            "metadata": _meta("line", n, at, correlation=f"upload-{report}"),
            "report_id": report,
            "line_no": n,
            "distributor_id": d,
            "reseller_id": r,
            "product_line": PRODUCT_LINES[rng.randrange(len(PRODUCT_LINES))],
            "quantity": qty,
            "unit_price": price,
            "currency": "EUR" if rng.random() < 0.003 else "USD",
            "sold_on": sold_on,
            "deal_id": deal,
        }
        lines_out.append((SELL_THROUGH_REPORTED.name, distributors.index(d) % 3, value))
        if n and n % 997 == 0 and late:  # a re-delivered report line under another event id
            dup = dict(value, metadata=_meta("dup", n, at))
            lines_out.append((SELL_THROUGH_REPORTED.name, distributors.index(d) % 3, dup))
    out += [(PARTNER_ENROLLED.name, 0, v) for v in early_partners]
    out += [(DEAL_REGISTERED.name, 0, v) for v in early_deals]
    half = len(lines_out) // 2
    out += lines_out[:half]
    out += [(DEAL_REGISTERED.name, 0, v) for v in late_deals]
    out += lines_out[half:]
    out += [(PARTNER_ENROLLED.name, 0, v) for v in late_partners]
    return out


def envelopes(items: list[tuple[str, int, dict[str, Any]]]) -> list[Envelope]:
    offsets: dict[tuple[str, int], int] = {}
    out = []
    for name, partition, value in items:
        n = offsets[(name, partition)] = offsets.get((name, partition), -1) + 1
        full = f"{PREFIX}{name}"
        out.append(Envelope(full, partition, n, None, value, 1_780_000_000_000 + n))
    return out


async def digests(engine: Any) -> dict[str, str]:
    out = {}
    async with engine.connect() as conn:
        for table in (*TABLES, "projection_positions"):
            cols = (
                "*" if table != "projection_positions" else 'projection, topic, partition, "offset"'
            )
            rows = await conn.execute(text(f"select {cols} from {table}"))
            body = "\n".join(sorted(repr(tuple(r)) for r in rows))
            out[table] = (
                f"{body.count(chr(10)) + bool(body)} rows {hashlib.md5(body.encode()).hexdigest()}"
            )
        rows = await conn.execute(text("select event_id, topic, key, value from outbox"))
        body = "\n".join(sorted(repr((r[0], r[1], bytes(r[2] or b""), bytes(r[3]))) for r in rows))
        out["outbox"] = (
            f"{body.count(chr(10)) + bool(body)} rows {hashlib.md5(body.encode()).hexdigest()}"
        )
    return out


def calibration() -> float:
    """CPU seconds of a fixed pure-Python workload (best of 5): how fast this machine runs Python
    right now. The machine is shared, so handler CPU seconds are also given in these units."""
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        total, seen = Decimal(0), {}
        for i in range(20_000):
            total += Decimal(i) * Decimal("1.0101")
            seen[f"k{i % 512}"] = total
        best = min(best, time.process_time() - started)
    return best


async def backend_cpu(engine: Any, database: str) -> float:
    """CPU seconds used so far by the PostgreSQL backends of `database` (same machine)."""
    async with engine.connect() as conn:
        pids = (
            await conn.execute(
                text("select pid from pg_stat_activity where datname = :d"), {"d": database}
            )
        ).scalars()
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


async def main(args: argparse.Namespace) -> None:
    e = endpoints()
    await testing.provision(e, PREFIX)
    name = f"accbench_{uuid.uuid4().hex[:6]}"
    url = testing.create_database(e.postgres, name)
    programs = Path(tempfile.mkdtemp(prefix="accbench-programs-"))
    (programs / "channel-rebates-v1.yaml").write_text(
        (BUNDLED / "channel-rebates-v1.yaml").read_text()
    )
    if args.tiered:
        (programs / "partner-growth-v2.yaml").write_text(TIERED)
    settings = Settings(
        service="incentives",
        kafka_bootstrap=e.kafka,
        schema_registry_url=e.registry,
        database_url=url,
        topic_prefix=PREFIX,
        log_json=False,
        extra={"programs_dir": str(programs)},
    )
    svc = bootstrap(settings)
    log = envelopes(events(args.lines, args.seed, args.late))
    lines = sum(1 for x in log if x.topic.endswith(SELL_THROUGH_REPORTED.name))
    # batches as a replay takes them: every topic-partition in log order, interleaved
    try:
        warm = log[:1]  # schema ids, statement caches, pool
        await svc.store.apply(warm, svc.handler)
        profiler = cProfile.Profile() if args.profile else None
        unit = calibration()
        pg_before = await backend_cpu(svc.runtime.engine, name)
        cpu = time.process_time()
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        for i in range(1, len(log), args.batch):
            await svc.store.apply(log[i : i + args.batch], svc.handler)
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        pg = await backend_cpu(svc.runtime.engine, name) - pg_before
        unit = min(unit, calibration())
        n = len(log) - 1
        print(
            f"{n} events ({lines} lines), batch {args.batch}: {seconds:.2f} s wall,"
            f" {n / seconds:,.0f} events/s; CPU: handler process {cpu:.2f} s"
            f" ({n / cpu:,.0f} events/CPU-s, {cpu / unit:,.0f} calibration units),"
            f" PostgreSQL {pg:.2f} s;"
            f" load average {os.getloadavg()[0]:.1f}"
        )
        if args.redeliver:  # the same log again: positions make it a no-op ...
            for i in range(0, len(log), args.batch):
                await svc.store.apply(log[i : i + args.batch], svc.handler)
            for i in range(0, len(log), args.batch):  # ... and so do the natural keys
                async with svc.runtime.engine.begin() as conn:
                    await svc.handler(conn, log[i : i + args.batch])
        for table, digest in (await digests(svc.runtime.engine)).items():
            print(f"  {table:22} {digest}")
    finally:
        await svc.runtime.stop()  # never started: releases producer, registry client and pool
        if not args.keep:
            drop_database(e.postgres, name)


def cli() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--lines", type=int, default=50_000)
    p.add_argument("--batch", type=int, default=5_000)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--late", type=float, default=0.0, help="share of partners/deals arriving late")
    p.add_argument("--tiered", action="store_true", help="add a tier-based second program")
    p.add_argument("--check", action="store_true", help="= --late 0.25 --tiered --redeliver")
    p.add_argument("--redeliver", action="store_true", help="apply the whole log twice")
    p.add_argument("--profile", metavar="PATH", help="cProfile stats of the timed part")
    p.add_argument("--keep", action="store_true", help="keep the database")
    args = p.parse_args()
    if args.check:
        args.late, args.tiered, args.redeliver = 0.25, True, True
    asyncio.run(main(args))


if __name__ == "__main__":
    cli()
