"""Incentives on the real stack: PostgreSQL projection, Kafka in and out, HTTP statements."""

from __future__ import annotations

import asyncio
import csv
import io
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from channelstream_cli.main import app as cli
from channelstream_common import replay, testing
from channelstream_common.consumer import BatchApplier
from channelstream_common.events import Envelope, derived_id, new_metadata
from channelstream_common.publisher import EventPublisher
from channelstream_common.serde import AvroSerde
from channelstream_common.topics import (
    DEAL_REGISTERED,
    PARTNER_ENROLLED,
    REBATE_ACCRUED,
    SELL_THROUGH_REPORTED,
    Topic,
)
from incentives.adapters.memory import InMemoryRepository
from incentives.adapters.program_files import BUNDLED
from incentives.adapters.repository import SqlRepository
from incentives.bootstrap import TABLES, IncentivesService, bootstrap
from incentives.entrypoints.consumers import TOPICS, to_batch
from incentives.service_layer.accrue import accrue
from incentives.service_layer.events import rebate_accrued
from incentives.service_layer.facts import Batch
from sqlalchemy import event, text
from typer.testing import CliRunner

pytestmark = pytest.mark.integration
T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
TIERED = """
id: partner-growth
version: 2
currency: USD
distributor_volume_rebate:
  rates_by_tier:
    GOLD: [{from: 0, rate: "0.015"}, {from: 50000, rate: "0.025"}]
  product_lines: [SERVERS]
deal_registration_bonus:
  rate_by_tier: {SILVER: "0.05"}
"""


# --- events, as the owning services would publish them -------------------------------------------


def _meta(producer: str, at: datetime | None, correlation: str | None = None) -> dict[str, Any]:
    return new_metadata(producer, correlation_id=correlation, recorded_at=at, occurred_at=at)


def partner_enrolled(pid: str, ptype: str, tier: str, at: datetime | None = None) -> dict[str, Any]:
    return {
        "metadata": _meta("onboarding", at),
        "partner_id": pid,
        "legal_name": f"{pid} Inc",
        "partner_type": ptype,
        "tier": tier,
        "parent_distributor_id": None,
        "territories": ["US"],
        "exclusive_territories": [],
        "enrolled_on": date(2026, 1, 5),
        "contact_email": "channel@example.com",
    }


def deal_registered(deal_id: str, pid: str, at: datetime | None = None) -> dict[str, Any]:
    return {
        "metadata": _meta("dealreg", at),
        "deal_id": deal_id,
        "partner_id": pid,
        "customer": {"name": f"Customer {deal_id}", "country": "US", "domain": None},
        "customer_key": f"customer-{deal_id}".lower(),
        "products": [{"sku": "SRV-1", "quantity": 10}],
        "estimated_value": Decimal("100000.00"),
        "currency": "USD",
        "expected_close_on": date(2026, 12, 1),
        "evidence": {
            "contact_email": "buyer@example.com",
            "meeting_on": None,
            "proposal_ref": None,
        },
        "registered_on": date(2026, 10, 1),
        "protection_expires_on": date(2026, 12, 29),
    }


def sell_through(
    distributor: str,
    reseller: str,
    line_no: int,
    quantity: int,
    price: str,
    *,
    deal: str | None = None,
    currency: str = "USD",
    sold_on: date = date(2026, 11, 3),
    at: datetime | None = None,
    report: str = "REP-1",
) -> dict[str, Any]:
    return {
        "metadata": _meta("sellthrough", at, correlation=f"upload-{report}"),
        "report_id": report,
        "line_no": line_no,
        "distributor_id": distributor,
        "reseller_id": reseller,
        "sku": "SRV-1",
        "product_line": "SERVERS",
        "quantity": quantity,
        "unit_price": Decimal(price),
        "currency": currency,
        "sold_on": sold_on,
        "end_customer_name": None,
        "end_customer_country": None,
        "deal_id": deal,
        "upload_id": None,
        "ingestion_path": "KAFKA",
        "submitted_by": "integration-test",
        "raw_line": f"{report},{line_no},{distributor},{reseller},SRV-1,{quantity},{price}",
        "line_hash": uuid.uuid4().hex,
    }


def envelopes(
    items: Sequence[tuple[Topic, dict[str, Any]]], prefix: str, partition: int = 0
) -> list[Envelope]:
    """As the log would deliver them: offsets per topic (one partition per topic here)."""
    offsets: dict[str, int] = {}
    out = []
    for topic, value in items:
        n = offsets[topic.name] = offsets.get(topic.name, -1) + 1
        out.append(Envelope(topic.full_name(prefix), partition, n, None, value, 0))
    return out


def scenario() -> list[tuple[Topic, dict[str, Any]]]:
    """A deal before and one after its lines; a partner enrolled after its lines."""
    at = [T0 + timedelta(minutes=i) for i in range(20)]
    L = SELL_THROUGH_REPORTED
    return [
        (DEAL_REGISTERED, deal_registered("DEAL-A", "R-1", at[0])),
        (L, sell_through("D-1", "R-1", 1, 30, "1000", deal="DEAL-A", at=at[1])),
        (L, sell_through("D-1", "R-1", 2, 45, "1000", at=at[2])),
        (L, sell_through("D-1", "R-1", 3, 400, "1000.5", deal="DEAL-B", at=at[3])),
        (PARTNER_ENROLLED, partner_enrolled("D-1", "DISTRIBUTOR", "GOLD", at[4])),
        (L, sell_through("D-1", "R-1", 4, -31, "1000", deal="DEAL-A", at=at[5])),
        (DEAL_REGISTERED, deal_registered("DEAL-B", "R-1", at[6])),
        (L, sell_through("D-1", "R-2", 5, 3, "333.3333", deal="DEAL-A", at=at[7])),
        (L, sell_through("D-1", "R-1", 6, 1, "50", currency="EUR", at=at[8])),
        (PARTNER_ENROLLED, partner_enrolled("R-1", "RESELLER", "SILVER", at[9])),
        (L, sell_through("D-1", "R-1", 7, 2, "10", deal="DEAL-ZZZ", at=at[10])),
    ]


async def snapshot(engine: Any) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    async with engine.connect() as conn:
        for table in TABLES:
            rows = await conn.execute(text(f"select * from {table}"))
            out[table] = sorted(tuple(r) for r in rows)
        rows = await conn.execute(text("select event_id, topic, key, value, headers from outbox"))
        out["outbox"] = sorted((r[0], r[1], bytes(r[2]), bytes(r[3]), str(r[4])) for r in rows)
    return out


def offline_service(
    settings_for: Callable[..., Any], programs: Path | None = None
) -> IncentivesService:
    """Migrated database and wiring, nothing started: the projection is driven by the test."""
    extra = {"programs_dir": str(programs)} if programs else {}
    return bootstrap(settings_for("incentives", extra=extra))


async def close(svc: IncentivesService) -> None:
    await svc.runtime.publisher.stop()
    await svc.runtime.engine.dispose()


@pytest.fixture
def two_programs(tmp_path: Path) -> Path:
    (tmp_path / "channel-rebates-v1.yaml").write_text(
        (BUNDLED / "channel-rebates-v1.yaml").read_text()
    )
    (tmp_path / "partner-growth-v2.yaml").write_text(TIERED)
    return tmp_path


# --- the projection in PostgreSQL ----------------------------------------------------------------


async def test_sql_ledger_equals_the_in_memory_ledger_for_the_same_events(
    settings_for, provisioned, topic_prefix, two_programs
):
    svc = offline_service(settings_for, two_programs)
    memory = InMemoryRepository()
    for env in envelopes(scenario(), topic_prefix):
        batch = to_batch([env], topic_prefix)
        async with svc.runtime.engine.begin() as conn:
            await accrue(batch, svc.programs, SqlRepository(conn, svc.outbox))
        await accrue(batch, svc.programs, memory)
    async with svc.runtime.engine.connect() as conn:
        rows = await conn.execute(
            text("select accrual_id, partner_id, reason, amount, source_event_id from accruals")
        )
        sql = {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}
        skipped = {
            tuple(r)
            for r in await conn.execute(
                text("select line_event_id, program_id, rule, code from skipped_rules")
            )
        }
        pending = {
            tuple(r)
            for r in await conn.execute(
                text("select line_event_id, program_id, awaiting, awaiting_key from pending_rules")
            )
        }
    assert sql == {
        i: (p.accrual.partner_id, p.accrual.reason.value, p.accrual.amount, p.trigger.event_id)
        for i, p in memory.ledger.items()
    }
    assert skipped == {
        (s.line_event_id, s.program_id, s.rule, s.code) for s in memory.skipped.values()
    }
    assert pending == {
        (p.line_event_id, p.program_id, p.awaiting.value, p.key) for p in memory.pending.values()
    }
    codes = sorted(code for *_, code in skipped)
    assert codes == [
        "CURRENCY_MISMATCH",
        "CURRENCY_MISMATCH",
        "DEAL_NOT_FOR_RESELLER",
        "DEAL_NOT_FOR_RESELLER",
    ]
    assert sorted((p[1], p[2], p[3]) for p in pending) == [
        ("channel-rebates", "DEAL", "DEAL-ZZZ"),
        ("partner-growth", "DEAL", "DEAL-ZZZ"),
    ]
    await close(svc)


async def test_replaying_the_same_log_in_other_batches_reproduces_identical_tables_and_events(
    settings_for, provisioned, topic_prefix, two_programs
):
    log = envelopes(scenario(), topic_prefix)
    one, many = (
        offline_service(settings_for, two_programs),
        offline_service(settings_for, two_programs),
    )
    assert await one.store.apply(log, one.handler) == len(log)
    # other batch boundaries, and the deal/partner topics drained before the lines topic
    facts_first = sorted(log, key=lambda e: e.topic.endswith(SELL_THROUGH_REPORTED.name))
    for i in range(0, len(log), 3):
        await many.store.apply(facts_first[i : i + 3], many.handler)
    first, second = await snapshot(one.runtime.engine), await snapshot(many.runtime.engine)
    assert first == second
    # default program 6 BASE + 1 TRUE_UP + 3 bonuses; tier program the same once enrolments arrive
    assert len(first["accruals"]) == len(first["outbox"]) == 20
    async with one.runtime.engine.connect() as conn:
        totals = await conn.execute(
            text(
                "select partner_id, program_id, sum(amount) from accrual_totals"
                " group by partner_id, program_id order by 1, 2"
            )
        )
        assert [tuple(r) for r in totals] == [
            ("D-1", "channel-rebates", Decimal("8904.40")),  # round(2 % of 445 219.9999)
            ("D-1", "partner-growth", Decimal("11130.50")),  # round(2.5 % of 445 219.9999)
            ("R-1", "channel-rebates", Decimal("7984.00")),  # 2 % of 30 000 + 400 200 - 31 000
            ("R-1", "partner-growth", Decimal("19960.00")),  # 5 % (SILVER) of the same
        ]
    # replaying into the same database again changes nothing (positions, then natural keys)
    assert await one.store.apply(log, one.handler) == 0
    async with one.runtime.engine.begin() as conn:
        await one.handler(conn, log)
    assert await snapshot(one.runtime.engine) == first
    for svc in (one, many):
        await close(svc)


async def test_a_batch_costs_the_same_number_of_statements_whatever_its_size(
    settings_for, provisioned, topic_prefix
):
    svc = offline_service(settings_for)
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(svc.runtime.engine.sync_engine, "before_cursor_execute", count)
    costs = []
    for size in (20, 400):
        items = [(DEAL_REGISTERED, deal_registered(f"DEAL-{size}", f"R-{size}"))] + [
            (
                SELL_THROUGH_REPORTED,
                sell_through(f"D-{size}", f"R-{size}", n, 400, "10", deal=f"DEAL-{size}"),
            )
            for n in range(size)
        ]
        log = envelopes(items, topic_prefix, partition=size % 3)
        statements = 0
        started = time.perf_counter()
        assert await svc.store.apply(log, svc.handler) == size + 1
        costs.append((statements, time.perf_counter() - started))
    print(f"statements and seconds per batch of 20 / 400 lines: {costs}")
    assert costs[0][0] == costs[1][0] <= 20
    await close(svc)


async def test_rows_already_recorded_are_neither_written_nor_totalled_twice(
    settings_for, provisioned, topic_prefix
):
    """The COPY fast path meets rows that are already there (its fallback: staging table and
    INSERT … ON CONFLICT DO NOTHING): only the new ones are saved, totalled and announced."""
    svc = offline_service(settings_for)
    log = to_batch(envelopes(scenario(), topic_prefix), topic_prefix)
    memory = InMemoryRepository()
    first = await accrue(Batch(log.partners, log.deals, log.lines[:4]), svc.programs, memory)
    second = await accrue(Batch([], [], log.lines[4:]), svc.programs, memory)
    pending, skipped = list(memory.pending.values()), list(memory.skipped.values())
    assert first and second and pending and skipped

    async def save(postings, pending, skipped, facts=()):
        async with svc.runtime.engine.begin() as conn:
            repo = SqlRepository(conn, svc.outbox)
            await repo.lock()
            added = await repo.add_partners(list(facts))
            saved = await repo.save(postings, pending, skipped, {})
            await repo.stage([rebate_accrued(p) for p in saved])
            return [f.partner.partner_id for f in added], saved

    assert await save(first, [], [], log.partners) == (["D-1", "R-1"], first)
    # the first batch's outcome again, with the second's: only that is new
    assert await save(first + second, pending, skipped, log.partners) == ([], second)
    assert await save([], pending, skipped) == ([], [])
    async with svc.runtime.engine.connect() as conn:
        accruals = (await conn.execute(text("select count(*) from accruals"))).scalar()
        outbox = (await conn.execute(text("select count(*) from outbox"))).scalar()
        totals = {
            (r.partner_id, r.reason): (r.amount, r.accruals)
            for r in await conn.execute(text("select * from accrual_totals"))
        }
        skipped_rows = (await conn.execute(text("select count(*) from skipped_rules"))).scalar()
        pending_rows = (await conn.execute(text("select count(*) from pending_rules"))).scalar()
    assert accruals == outbox == len(first) + len(second) == len(memory.ledger)
    assert totals == {
        (t.partner_id, t.reason.value): (t.amount, t.accruals) for t in memory.totals.values()
    }
    assert (skipped_rows, pending_rows) == (len(skipped), len(pending))
    await close(svc)


# --- the running service: Kafka in and out, HTTP -------------------------------------------------


async def read_topic(bootstrap: str, topic: str) -> list[Any]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(3)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        out: list[Any] = []
        behind = [tp for tp in parts if ends[tp] > 0]
        while behind:
            batch = await consumer.getmany(timeout_ms=500)
            out += [r for records in batch.values() for r in records]
            behind = [tp for tp in behind if await consumer.position(tp) < ends[tp]]
        return out
    finally:
        await consumer.stop()


async def read_records(bootstrap: str, metas: Sequence[Any]) -> list[Any]:
    """Exactly the records at these (topic, partition, offset) positions."""
    wanted = {(m.topic, m.partition, m.offset) for m in metas}
    found = []
    for topic in sorted({m.topic for m in metas}):
        found += [
            r
            for r in await read_topic(bootstrap, topic)
            if (r.topic, r.partition, r.offset) in wanted
        ]
    assert len(found) == len(wanted)
    return found


async def test_statement_on_the_real_stack_matches_the_hand_computed_rebate(
    endpoints, topic_prefix, provisioned, settings_for
):
    run = uuid.uuid4().hex[:6].upper()
    dist, res, deal_a, deal_b = f"D-{run}", f"R-{run}", f"DEAL-A-{run}", f"DEAL-B-{run}"
    settings = settings_for("incentives", http_port=testing.free_port())
    svc = bootstrap(settings)
    serde = AvroSerde(endpoints.registry, topic_prefix)
    onboarding, dealreg, sellthrough = (
        EventPublisher(endpoints.kafka, serde, name)
        for name in ("onboarding", "dealreg", "sellthrough")
    )
    url = f"http://127.0.0.1:{settings.http_port}"
    await svc.start()
    for pub in (onboarding, dealreg, sellthrough):
        await pub.start()
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:

            async def ready() -> bool:
                try:
                    return (await http.get("/health/ready")).status_code == 200
                except httpx.HTTPError:
                    return False

            await testing.eventually(ready, within=90)
            partners = [
                (PARTNER_ENROLLED, partner_enrolled(dist, "DISTRIBUTOR", "GOLD")),
                (PARTNER_ENROLLED, partner_enrolled(res, "RESELLER", "SILVER")),
            ]
            deal_first = [(DEAL_REGISTERED, deal_registered(deal_a, res))]
            lines = [
                (
                    SELL_THROUGH_REPORTED,
                    sell_through(dist, res, n, q, p, deal=d, currency=c, report=run),
                )
                for n, q, p, d, c in [
                    (1, 60, "1000.0000", deal_a, "USD"),  # R 0 -> 60 000
                    (2, 50, "1000.0000", None, "USD"),  # -> 110 000: crosses 100 000
                    (3, 400, "1000.0000", deal_a, "USD"),  # -> 510 000: crosses 500 000
                    (4, -20, "1000.0000", deal_a, "USD"),  # return -> 490 000: back below
                    (5, 3, "333.3333", None, "USD"),  # -> 490 999.9999
                    (6, 10, "250.0000", deal_b, "USD"),  # -> 493 499.9999, deal B not yet known
                    (7, 1, "100.0000", "DEAL-NEVER", "USD"),  # -> 493 599.9999, unknown deal
                    (8, 1, "500.0000", None, "EUR"),  # not in the program currency
                ]
            ]
            metas = await onboarding.publish_many(partners)
            metas += await dealreg.publish_many(deal_first)
            metas += await sellthrough.publish_many(lines)

            async def statement(pid: str) -> dict[str, Any]:
                r = await http.get(f"/statements/{pid}/2026-Q4")
                return r.json() if r.status_code == 200 else {}

            async def statement_with(pid: str, n: int) -> dict[str, Any] | None:
                s = await statement(pid)
                return s if s and s["line_count"] == n else None

            d = await testing.eventually(lambda: statement_with(dist, 10), within=90)
            # by hand: E(R) = round(rate(R) x R, 2), BASE = E_old(R1) - E_old(R0)
            assert [(x["reason"], x["amount"]) for x in d["lines"]] == [
                ("BASE", "600.00"),  # 1 % of 60 000
                ("BASE", "500.00"),  # 1 % of 110 000 - 600
                ("TIER_TRUE_UP", "1100.00"),  # (2 % - 1 %) of 110 000
                ("BASE", "8000.00"),  # 2 % of 510 000 - 2 200
                ("TIER_TRUE_UP", "5100.00"),  # (3 % - 2 %) of 510 000
                ("BASE", "-600.00"),  # 3 % of 490 000 - 15 300
                ("TIER_TRUE_UP", "-4900.00"),  # (2 % - 3 %) of 490 000
                ("BASE", "20.00"),  # round(2 % of 490 999.9999) - 9 800
                ("BASE", "50.00"),  # round(2 % of 493 499.9999) - 9 820
                ("BASE", "2.00"),  # round(2 % of 493 599.9999) - 9 870
            ]
            assert (d["total"], d["currency"]) == ("9872.00", "USD")  # E(493 599.9999)
            assert d["programs"][0]["totals_by_reason"] == {
                "BASE": "8572.00",
                "TIER_TRUE_UP": "1300.00",
            }
            assert sum(Decimal(x["amount"]) for x in d["lines"]) == Decimal(d["total"])

            r = await testing.eventually(lambda: statement_with(res, 3), within=90)
            assert [x["amount"] for x in r["lines"]] == ["1200.00", "8000.00", "-400.00"]
            assert r["total"] == "8800.00"

            # recorded after its line was accrued: the deal releases the line's bonus
            deal_later = [(DEAL_REGISTERED, deal_registered(deal_b, res))]
            metas += await dealreg.publish_many(deal_later)
            r = await testing.eventually(lambda: statement_with(res, 4), within=90)
            assert r["total"] == "8850.00" and r["lines"][-1]["amount"] == "50.00"

            async def applied(records: list[Any]) -> bool:
                positions = await svc.store.positions()
                return all(positions.get((m.topic, m.partition), -1) >= m.offset for m in records)

            # statements count accruals: the partners and line 8 (skipped) are waited for here
            await testing.eventually(lambda: applied(metas), within=90)
            late = r["lines"][-1]
            assert late["source_event_id"] == deal_later[0][1]["metadata"]["event_id"]
            assert late["line_event_id"] == lines[5][1]["metadata"]["event_id"]
            assert late["accrual_id"] == derived_id(
                late["line_event_id"], "DEAL_REG_BONUS", "channel-rebates", 1
            )

            # CSV: the same lines and a total row they sum to
            text_csv = (
                await http.get(f"/statements/{dist}/2026-Q4", headers={"Accept": "text/csv"})
            ).text
            rows = list(csv.DictReader(io.StringIO(text_csv)))
            assert [x["amount"] for x in rows[:-1]] == [x["amount"] for x in d["lines"]]
            assert (rows[-1]["reason"], rows[-1]["amount"], rows[-1]["currency"]) == (
                "TOTAL",
                "9872.00",
                "USD",
            )
            assert sum(Decimal(x["amount"]) for x in rows[:-1]) == Decimal(rows[-1]["amount"])
            assert (await http.get(f"/statements/{dist}/2026-Q4?format=csv")).text == text_csv

            # the CLI, against this service (in a thread: it is synchronous, the service is not)
            env = {"CHANNELSTREAM_INCENTIVES_URL": url, "COLUMNS": "200"}

            async def channelstream(*args: str) -> Any:
                return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=env)

            shown = await channelstream("views", "statement", dist, "2026-Q4")
            assert shown.exit_code == 0, shown.output
            assert f"rebate statement {dist} 2026-Q4" in shown.output
            assert "TOTAL" in shown.output and "9872.00 USD" in shown.output
            assert "1300.00 USD" in shown.output and "5100.00" in shown.output
            as_csv = await channelstream("views", "statement", dist, "2026-Q4", "--csv")
            assert as_csv.output == text_csv
            listed = await channelstream("views", "ledger", "--partner", dist, "--period=2026-Q4")
            assert listed.exit_code == 0 and "rebate ledger (10 accruals)" in listed.output
            assert listed.output.count("channel-rebates v1") == 10 + 2  # rows + totals by reason
            refused = await channelstream("views", "statement", dist, "2026-Q9")
            assert refused.exit_code == 1
            assert "error: INVALID_PERIOD: period must look like 2026-Q4" in refused.output

            true_up = d["lines"][4]
            one = (await http.get(f"/accruals/{true_up['accrual_id']}")).json()
            explained = ("basis_amount", "rate", "running_before", "running_after")
            assert [one[k] for k in explained] == [
                "510000.0000",
                "0.010000",
                "110000.0000",
                "510000.0000",
            ]
            ledger = (
                await http.get(
                    "/ledger", params={"partner_id": dist, "period": "2026-Q4", "limit": 4}
                )
            ).json()
            assert (ledger["count"], ledger["next_offset"], len(ledger["accruals"])) == (10, 4, 4)
            assert {t["reason"]: t["amount"] for t in ledger["totals"]} == {
                "BASE": "8572.00",
                "TIER_TRUE_UP": "1300.00",
            }
            totals = (
                await http.get("/totals", params={"partner_id": dist, "period": "2026-Q4"})
            ).json()["totals"]
            assert totals == ledger["totals"]
            by_reason = (await http.get("/totals", params={"reason": "TIER_TRUE_UP"})).json()
            assert {(t["partner_id"], t["amount"]) for t in by_reason["totals"]} >= {
                (dist, "1300.00")
            }
            assert {t["reason"] for t in by_reason["totals"]} == {"TIER_TRUE_UP"}
            unpaid = (await http.get("/not-accrued", params={"partner_id": dist})).json()
            assert [(x["line_no"], x["code"]) for x in unpaid["skipped"]] == [
                (8, "CURRENCY_MISMATCH")
            ]
            assert [
                (x["line_no"], x["awaiting"], x["awaiting_key"]) for x in unpaid["awaiting"]
            ] == [(7, "DEAL", "DEAL-NEVER")]

            for path, status, code in [
                (f"/statements/{dist}/2026-Q5", 400, "INVALID_PERIOD"),
                (f"/statements/NOBODY-{run}/2026-Q4", 404, "UNKNOWN_PARTNER"),
                ("/accruals/no-such-accrual", 404, "ACCRUAL_NOT_FOUND"),
                ("/ledger?limit=0", 400, "INVALID_PARAMETER"),
                ("/ledger?reason=BONUS", 400, "INVALID_REASON"),
                ("/totals?period=2026-Q9", 400, "INVALID_PERIOD"),
                (f"/statements/{dist}/2026-Q4?format=xml", 400, "INVALID_FORMAT"),
            ]:
                resp = await http.get(path)
                assert (resp.status_code, resp.json()["error"]["code"]) == (status, code), path
            enrolled_only = (await http.get(f"/statements/{res}/2026-Q1")).json()
            assert (enrolled_only["total"], enrolled_only["lines"]) == ("0.00", [])

            # the RebateAccrued events on the topic are the statement lines, with their causes
            topic = REBATE_ACCRUED.full_name(topic_prefix)

            async def records_of_this_test() -> list[Any]:
                mine = (dist.encode(), res.encode())
                return [x for x in await read_topic(endpoints.kafka, topic) if x.key in mine]

            async def published() -> dict[str, dict[str, Any]]:
                """Accrual events of this test by accrual id (the relay is at-least-once)."""
                records = await records_of_this_test()
                decoded = [await serde.decode(REBATE_ACCRUED, x.value) for x in records]
                return {e["accrual_id"]: e for e in decoded}

            async def all_published() -> list[dict[str, Any]] | None:
                found = await published()
                return list(found.values()) if len(found) >= 14 else None

            accrued = await testing.eventually(all_published, within=90)
            assert len(accrued) == 14
            statement_lines = {x["accrual_id"]: x["amount"] for x in d["lines"] + r["lines"]}
            assert {e["accrual_id"]: format(e["amount"], "f") for e in accrued} == statement_lines
            by_id = {e["accrual_id"]: e for e in accrued}
            for e in accrued:
                assert e["metadata"]["event_id"] == e["accrual_id"]
                assert e["metadata"]["causation_id"] == e["source_event_id"]
                assert e["metadata"]["producer"] == "incentives"
                assert (e["program_id"], e["program_version"], e["period"], e["currency"]) == (
                    "channel-rebates", 1, "2026-Q4", "USD",
                )  # fmt: skip
            first_line = lines[0][1]["metadata"]
            base = by_id[derived_id(first_line["event_id"], "BASE", "channel-rebates", 1)]
            assert base["metadata"]["correlation_id"] == first_line["correlation_id"]
            assert base["metadata"]["recorded_at"] == first_line["recorded_at"].replace(
                microsecond=first_line["recorded_at"].microsecond // 1000 * 1000
            )
            assert (
                by_id[late["accrual_id"]]["metadata"]["causation_id"]
                == deal_later[0][1]["metadata"]["event_id"]
            )

            # redelivery 1: the same events published again (same event ids, new offsets)
            before = await snapshot(svc.runtime.engine)
            again = await onboarding.publish_many(partners)
            again += await dealreg.publish_many(deal_first + deal_later)
            again += await sellthrough.publish_many(lines)

            await testing.eventually(lambda: applied(again), within=90)
            await svc.outbox.flush()
            assert await snapshot(svc.runtime.engine) == before
            assert await statement(dist) == d and await statement(res) == r
            assert set(await published()) == set(by_id)  # no new accrual ids on the topic
            assert len(await records_of_this_test()) == 14  # and nothing staged a second time

            # redelivery 2: the very same records re-applied (positions), then forced past them
            records = await read_records(endpoints.kafka, metas + again)
            applier = BatchApplier(
                "incentives", svc.store, svc.handler, svc.runtime.serde, TOPICS, None
            )
            assert await applier.apply(records) == 0
            decoded, undecodable = await applier.decode(records)
            assert undecodable == []
            async with svc.runtime.engine.begin() as conn:
                await svc.handler(conn, decoded)
            assert await snapshot(svc.runtime.engine) == before

            # a replay of the topics into a fresh database equals the live projection
            replica = bootstrap(settings_for("incentives"))
            try:
                rebuilt = await replay.rebuild(replica.runtime)
                assert rebuilt.dead_lettered == 0 and rebuilt.applied >= len(metas)
                compared = await replay.compare(svc.runtime.engine, replica.runtime.engine, TABLES)
                assert [c.table for c in compared if not c.equal] == [], compared
                # and it stages nothing: every RebateAccrued it re-derives is on the topic already
                async with replica.runtime.engine.connect() as conn:
                    staged = await conn.scalar(text("select count(*) from outbox"))
                assert staged == 0
                assert replica.outbox.discarding is False  # and the runtime stages again after it
            finally:
                await close(replica)
    finally:
        for pub in (onboarding, dealreg, sellthrough):
            await pub.stop()
        await svc.stop()
