"""Analytics on the real stack: events published under each owning service, analytics started
in-process, every scorecard field checked against values computed by hand below."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cached_property
from itertools import groupby
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from analytics.bootstrap import AnalyticsService, bootstrap
from analytics.domain.quarters import Quarter
from analytics.domain.scorecard import is_active, is_dark, money, ratio
from analytics.entrypoints.consumers import CONSUMED, PROJECTION, facts_handler
from channelstream_common import replay, testing
from channelstream_common.admin import ensure_topics, register_schemas
from channelstream_common.consumer import BatchApplier
from channelstream_common.events import new_metadata
from channelstream_common.projection import ProjectionStore
from channelstream_common.publisher import EventPublisher
from channelstream_common.serde import AvroSerde
from channelstream_common.topics import (
    DEAD_LETTERS,
    DEAL_REGISTERED,
    DEAL_REJECTED,
    PARTNER_ENROLLED,
    REBATE_ACCRUED,
    SELL_IN_RECORDED,
    SELL_THROUGH_REJECTED,
    SELL_THROUGH_REPORTED,
    Topic,
)
from sqlalchemy import text

pytestmark = pytest.mark.integration

Q3, Q4 = "2026-Q3", "2026-Q4"
Event = tuple[Topic, dict[str, Any]]
FACT_TABLES = (
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
    "reseller_quarter_sales",
    "deal_conversions",
    "partner_quarter_rebates",
)


# ---------------------------------------------------------------- the events, built by hand


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def meta(producer: str, day: date) -> dict[str, Any]:
    return new_metadata(producer, occurred_at=at(day), recorded_at=at(day))


def partner(pid: str, kind: str, parent: str | None, enrolled: date) -> Event:
    return PARTNER_ENROLLED, {
        "metadata": meta("onboarding", enrolled),
        "partner_id": pid,
        "legal_name": f"{pid} Ltd",
        "partner_type": kind,
        "tier": "GOLD" if kind == "DISTRIBUTOR" else "REGISTERED",
        "parent_distributor_id": parent,
        "territories": ["US"],
        "exclusive_territories": [],
        "enrolled_on": enrolled,
        "contact_email": "ops@example.com",
    }


def shipment(sid: str, dist: str, sku: str, qty: int, cost: str, day: date) -> Event:
    return SELL_IN_RECORDED, {
        "metadata": meta("sellthrough", day),
        "shipment_id": sid,
        "distributor_id": dist,
        "sku": sku,
        "quantity": qty,
        "unit_cost": Decimal(cost),
        "currency": "USD",
        "shipped_on": day,
        "upload_id": None,
        "ingestion_path": "HTTP",
    }


def line(
    report: str, no: int, dist: str, res: str, sku: str, qty: int, price: str, day: date,
    deal: str | None = None,
) -> Event:  # fmt: skip
    return SELL_THROUGH_REPORTED, {
        "metadata": meta("sellthrough", day),
        "report_id": report,
        "line_no": no,
        "distributor_id": dist,
        "reseller_id": res,
        "sku": sku,
        "product_line": "Core",
        "quantity": qty,
        "unit_price": Decimal(price),
        "currency": "USD",
        "sold_on": day,
        "end_customer_name": None,
        "end_customer_country": None,
        "deal_id": deal,
        "upload_id": None,
        "ingestion_path": "KAFKA",
        "submitted_by": "integration",
        "raw_line": f"{report},{no}",
        "line_hash": uuid.uuid4().hex,
    }


def line_rejected(report: str, dist: str, day: date) -> Event:
    return SELL_THROUGH_REJECTED, {
        "metadata": meta("sellthrough", day),
        "report_id": report,
        "line_no": 99,
        "distributor_id": dist,
        "reason": "UNKNOWN_SKU",
        "detail": "SKU-Z is not in the catalog",
        "raw_line": f"{report},99,SKU-Z",
        "upload_id": None,
        "ingestion_path": "KAFKA",
    }


def deal(deal_id: str, pid: str, day: date) -> Event:
    return DEAL_REGISTERED, {
        "metadata": meta("dealreg", day),
        "deal_id": deal_id,
        "partner_id": pid,
        "customer": {"name": f"Customer of {deal_id}", "country": "US", "domain": None},
        "customer_key": f"customer-{deal_id}",
        "products": [{"sku": "SKU-A", "quantity": 5}],
        "estimated_value": Decimal("5000.00"),
        "currency": "USD",
        "expected_close_on": date(2027, 1, 31),
        "evidence": {
            "contact_email": "buyer@example.com",
            "meeting_on": None,
            "proposal_ref": None,
        },
        "registered_on": day,
        "protection_expires_on": date.fromordinal(day.toordinal() + 90),
    }


def deal_rejected(deal_id: str, pid: str, reason: str, day: date | None, occurred: date) -> Event:
    return DEAL_REJECTED, {
        "metadata": meta("dealreg", occurred),
        "deal_id": deal_id,
        "partner_id": pid,
        "customer": None,
        "request_json": "{}",
        "reason": reason,
        "detail": reason.lower(),
        "conflicting_deal_id": None,
        "registered_on": day,
    }


def accrual(aid: str, pid: str, period: str, reason: str, amount: str) -> Event:
    return REBATE_ACCRUED, {
        "metadata": meta("incentives", date(2026, 12, 20)),
        "accrual_id": aid,
        "partner_id": pid,
        "program_id": "default",
        "program_version": 1,
        "period": period,
        "reason": reason,
        "basis_amount": Decimal(amount) * 100,
        "rate": Decimal("0.010000"),
        "amount": Decimal(amount),
        "source_event_id": str(uuid.uuid4()),
        "source_topic": "sellthrough.sell-through-reported",
        "deal_id": None,
        "sold_on": None,
    }


class World:
    """One complete, small channel: 2 distributors, 6 resellers, 2 quarters of facts."""

    def __init__(self) -> None:
        s = uuid.uuid4().hex[:6].upper()
        self.id = {
            n: f"{n}-{s}"
            for n in ["D1", "D2", "R1", "R2", "R3", "R4", "R6", "R7", "DL0", "DL1", "DL2", "DL3"]
        }
        self.report = f"RPT-{s}"

    def __getattr__(self, name: str) -> str:
        if name in self.__dict__.get("id", {}):
            return str(self.id[name])
        raise AttributeError(name)

    @cached_property
    def partners(self) -> list[Event]:
        return [
            partner(self.D1, "DISTRIBUTOR", None, date(2026, 1, 5)),
            partner(self.D2, "DISTRIBUTOR", None, date(2026, 2, 1)),
            partner(self.R1, "RESELLER", self.D1, date(2026, 3, 1)),
            partner(self.R2, "VAR", self.D1, date(2026, 10, 15)),
            partner(self.R3, "RESELLER", self.D1, date(2026, 7, 1)),
            partner(self.R4, "MSP", self.D2, date(2026, 11, 20)),
            partner(self.R6, "RESELLER", self.D1, date(2026, 2, 1)),
            partner(self.R7, "VAR", self.D1, date(2026, 1, 10)),
        ]

    @cached_property
    def sell_in(self) -> list[Event]:
        d1, d2 = self.D1, self.D2
        return [
            shipment(f"SH1-{d1}", d1, "SKU-A", 100, "10.0000", date(2026, 7, 10)),
            shipment(f"SH2-{d1}", d1, "SKU-A", 50, "10.0000", date(2026, 10, 2)),
            shipment(f"SH3-{d1}", d1, "SKU-B", 200, "5.5000", date(2026, 10, 3)),
            shipment(f"SH5-{d1}", d1, "SKU-C", 10, "3.0000", date(2026, 10, 4)),
            shipment(f"SH4-{d2}", d2, "SKU-A", 20, "10.0000", date(2026, 10, 5)),
        ]

    @cached_property
    def lines(self) -> list[Event]:
        r, d1, d2 = self.report, self.D1, self.D2
        return [
            line(r, 1, d1, self.R1, "SKU-A", 10, "19.9900", date(2026, 7, 20)),
            line(r, 2, d1, self.R1, "SKU-A", 20, "19.9900", date(2026, 10, 6), self.DL1),
            line(r, 3, d1, self.R2, "SKU-A", 5, "19.9990", date(2026, 11, 10)),
            line(r, 4, d1, self.R1, "SKU-A", -3, "19.9900", date(2026, 11, 12)),
            line(r, 5, d1, self.R2, "SKU-B", 4, "7.1250", date(2026, 12, 1)),
            line(r, 6, d1, self.R2, "SKU-B", -4, "7.1250", date(2026, 12, 2)),
            # names R7's deal, but R1 sells: no conversion for R7
            line(r, 7, d2, self.R1, "SKU-A", 2, "21.0000", date(2026, 10, 20), self.DL3),
            line(r, 8, d2, self.R4, "SKU-A", 1, "22.5000", date(2026, 12, 15)),
            line(r, 9, d1, self.R6, "SKU-B", 2, "7.0000", date(2026, 10, 8)),
            line(r, 10, d1, self.R6, "SKU-B", -2, "7.0000", date(2026, 10, 9)),
            line(r, 11, d1, self.R1, "SKU-C", 9, "6.0000", date(2026, 11, 30), self.DL0),
            line_rejected(r, d1, date(2026, 11, 1)),
        ]

    @cached_property
    def deals(self) -> list[Event]:
        return [
            deal(self.DL0, self.R1, date(2026, 9, 20)),
            deal(self.DL1, self.R1, date(2026, 10, 1)),
            deal(self.DL2, self.R1, date(2026, 11, 2)),
            deal(self.DL3, self.R7, date(2026, 10, 10)),
            deal_rejected("X1", self.R1, "CONFLICT", date(2026, 11, 5), date(2026, 11, 5)),
            deal_rejected("X2", self.R3, "NO_EVIDENCE", date(2026, 12, 1), date(2026, 12, 1)),
            # no valid registration date: counted on the day the rejection occurred
            deal_rejected("", self.R7, "INVALID_REQUEST", None, date(2026, 10, 20)),
        ]  # fmt: skip

    @cached_property
    def accruals(self) -> list[Event]:
        d1 = self.D1
        return [
            accrual(f"A1-{d1}", d1, Q4, "BASE", "4.40"),
            accrual(f"A2-{d1}", d1, Q4, "TIER_TRUE_UP", "0.05"),
            accrual(f"A3-{d1}", d1, Q4, "BASE", "-0.60"),
            accrual(f"A4-{d1}", self.R1, Q4, "DEAL_REG_BONUS", "8.00"),
            accrual(f"A5-{d1}", d1, Q3, "BASE", "2.00"),
        ]

    @cached_property
    def bad_accrual(self) -> Event:
        return accrual(f"BAD-{self.D1}", self.D1, "2026-13", "BASE", "100.00")

    @cached_property
    def events(self) -> list[Event]:
        return self.partners + self.sell_in + self.lines + self.deals + self.accruals

    # ------------------------------------------------------ expected values, computed by hand

    def identity(self, pid: str, quarter: str) -> dict[str, Any]:
        kind, parent, enrolled = next(
            (v["partner_type"], v["parent_distributor_id"], v["enrolled_on"])
            for _, v in self.partners
            if v["partner_id"] == pid
        )
        q = int(quarter[-1])
        return {
            "partner_id": pid,
            "legal_name": f"{pid} Ltd",
            "partner_type": kind,
            "scorecard_type": "distributor" if kind == "DISTRIBUTOR" else "reseller",
            "tier": "GOLD" if kind == "DISTRIBUTOR" else "REGISTERED",
            "parent_distributor_id": parent,
            "enrolled_on": enrolled.isoformat(),
            "quarter": quarter,
            "quarter_start": date(2026, 3 * q - 2, 1).isoformat(),
            "quarter_end": {3: "2026-09-30", 4: "2026-12-31"}[q],
        }

    def expected(self) -> dict[tuple[str, str], dict[str, Any]]:
        def dist(pid, quarter, si, st, units, ratio, active, new, rebate, loading):  # type: ignore[no-untyped-def]
            return {
                **self.identity(pid, quarter),
                "sell_in_revenue": si, "sell_through_revenue": st, "sell_through_units": units,
                "sell_through_to_sell_in": ratio, "active_resellers": active,
                "new_resellers": new, "rebate_accrued": rebate, "loading_skus": loading,
            }  # fmt: skip

        def res(pid, quarter, st, units, registered, rejected, converted, rebate, dark):  # type: ignore[no-untyped-def]
            return {
                **self.identity(pid, quarter),
                "sell_through_revenue": st, "sell_through_units": units,
                "deals_registered": registered, "deals_rejected": rejected,
                "deals_converted": converted, "rebate_accrued": rebate, "dark": dark,
            }  # fmt: skip

        rows = [
            # D1 Q4: sell-in 50x10 + 200x5.5 + 10x3; sell-through 399.80 + 99.995 - 59.97
            # + 28.50 - 28.50 + 14 - 14 + 54 = 493.825 -> 493.82 (half-even), / 1630 = 0.3030;
            # active R1 (26 units) and R2 (5), not R6 (net 0); new: R2; rebates 4.40+0.05-0.60;
            # loading: SKU-A (69.73 weeks) and SKU-B (stock, no sell-through), not SKU-C (1.44)
            dist(self.D1, Q4, "1630.00", "493.82", 31, "0.3030", 2, 1, "3.85", 2),
            dist(self.D1, Q3, "1000.00", "199.90", 10, "0.1999", 1, 1, "2.00", 2),
            # D2 Q4: 20x10; 2x21 + 1x22.50 = 64.50; R1 and R4 active; R4 new; SKU-A 73.67 weeks
            dist(self.D2, Q4, "200.00", "64.50", 3, "0.3225", 2, 1, "0.00", 1),
            # R1 Q4 across D1 and D2: 399.80 - 59.97 + 54 + 42; DL1 and DL2 registered, DL1
            # converted (line 2), one rejection; its deal-registration bonus
            res(self.R1, Q4, "435.83", 28, 2, 1, 1, "8.00", False),
            # R1 Q3: DL0 registered in Q3 and converted by line 11 in Q4
            res(self.R1, Q3, "199.90", 10, 1, 0, 1, "0.00", False),
            res(self.R2, Q4, "100.00", 5, 0, 0, 0, "0.00", False),  # 99.995 -> 100.00
            res(self.R3, Q4, "0.00", 0, 0, 1, 0, "0.00", True),  # enrolled in Q3, silent in Q4
            res(self.R3, Q3, "0.00", 0, 0, 0, 0, "0.00", False),  # enrolled on Q3's first day
            res(self.R4, Q4, "22.50", 1, 0, 0, 0, "0.00", False),
            res(self.R6, Q4, "0.00", 0, 0, 0, 0, "0.00", False),  # sold and took back: not dark
            res(self.R6, Q3, "0.00", 0, 0, 0, 0, "0.00", True),
            # R7: an approved deal keeps it lit although it sold nothing; line 7 names its deal
            # for another reseller, so it is not converted
            res(self.R7, Q4, "0.00", 0, 1, 1, 0, "0.00", False),
            res(self.R7, Q3, "0.00", 0, 0, 0, 0, "0.00", True),
        ]
        return {(r["partner_id"], r["quarter"]): r for r in rows}

    def positions(self) -> dict[tuple[str, str], dict[str, Any]]:
        def pos(dist, sku, si, st, on_hand, window, as_of, avg, wos, loading):  # type: ignore[no-untyped-def]
            return {
                "distributor_id": dist, "sku": sku, "sell_in_units": si,
                "sell_through_units": st, "on_hand": on_hand, "units_in_window": window,
                "as_of": as_of, "avg_weekly_units": avg, "weeks_of_supply": wos,
                "loading_flag": loading,
            }  # fmt: skip

        rows = [
            # as_of D1 = 2026-12-02 (line 6), window from 2026-09-03: line 1 falls outside
            pos(self.D1, "SKU-A", 150, 32, 118, 22, "2026-12-02", "1.69", "69.73", True),
            pos(self.D1, "SKU-B", 200, 0, 200, 0, "2026-12-02", "0.00", None, True),
            pos(self.D1, "SKU-C", 10, 9, 1, 9, "2026-12-02", "0.69", "1.44", False),
            pos(self.D2, "SKU-A", 20, 3, 17, 3, "2026-12-15", "0.23", "73.67", True),
        ]
        return {(r["distributor_id"], r["sku"]): r for r in rows}


# ---------------------------------------------------------------- running it


async def provision(endpoints: testing.Endpoints, prefix: str) -> None:
    """Topics of our own under the run's prefix: analytics' consumer group (named after the
    prefix) starts from the beginning, and these tests see only their own events."""
    await ensure_topics(endpoints.kafka, prefix)
    await register_schemas(AvroSerde(endpoints.registry, prefix))


async def publish(endpoints: testing.Endpoints, prefix: str, events: list[Event]) -> None:
    """Each event under the service that owns its topic, in the order given."""
    serde = AvroSerde(endpoints.registry, prefix)
    owners = sorted({t.owner for t, _ in events})
    publishers = {o: EventPublisher(endpoints.kafka, serde, o) for o in owners}
    for p in publishers.values():
        await p.start()
    try:
        for owner, run in groupby(events, key=lambda e: e[0].owner):
            await publishers[owner].publish_many(list(run))  # one owner's run, in order
    finally:
        for p in publishers.values():
            await p.stop()


async def eventually(check: Callable[[], Awaitable[Any]], within: float = 60) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not reached within {within}s: {result!r}")
        await asyncio.sleep(0.2)


async def end_offsets(endpoints: testing.Endpoints, prefix: str) -> dict[tuple[str, int], int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=endpoints.kafka)
    await consumer.start()
    try:
        parts = [
            TopicPartition(t.full_name(prefix), p) for t in CONSUMED for p in range(t.partitions)
        ]
        ends = await consumer.end_offsets(parts)
        return {(tp.topic, tp.partition): off for tp, off in ends.items() if off > 0}
    finally:
        await consumer.stop()


async def caught_up(svc: AnalyticsService, endpoints: testing.Endpoints) -> None:
    """Wait until the projection has applied everything in its topics right now."""
    wanted = await end_offsets(endpoints, svc.runtime.settings.topic_prefix)
    store = ProjectionStore(svc.runtime.engine, PROJECTION)

    async def done() -> bool:
        have = await store.positions()
        return all(have.get(tp, -1) >= end - 1 for tp, end in wanted.items())

    await eventually(done)


async def snapshot(svc: AnalyticsService) -> dict[str, str]:
    """A content checksum of every table, independent of physical row order."""
    out = {}
    async with svc.runtime.engine.connect() as conn:
        for table in FACT_TABLES:
            out[table] = await conn.scalar(
                text(f"select md5(coalesce(string_agg(t::text, '|' order by t::text), ''))"
                     f" from {table} t")
            )  # fmt: skip
    return out


def url(svc: AnalyticsService, path: str) -> str:
    return f"http://127.0.0.1:{svc.runtime.settings.http_port}{path}"


async def get(svc: AnalyticsService, path: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.get(url(svc, path), **kwargs)


def plain(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal | date) else value


@pytest.fixture(scope="module")
async def world(endpoints, topic_prefix, module_settings_for):
    """The world's events published in the natural order, analytics running over them."""
    prefix = f"{topic_prefix}an{uuid.uuid4().hex[:6]}."
    await provision(endpoints, prefix)
    w = World()
    await publish(endpoints, prefix, [*w.events, w.bad_accrual])
    svc = bootstrap(
        module_settings_for("analytics", topic_prefix=prefix, http_port=testing.free_port())
    )
    await svc.start()
    try:
        await caught_up(svc, endpoints)
        yield w, svc, endpoints
    finally:
        await svc.stop()


# ---------------------------------------------------------------- tests


async def test_every_scorecard_field_matches_the_hand_computed_values(world):
    w, svc, _ = world
    for (pid, quarter), expected in w.expected().items():
        response = await get(svc, f"/scorecards/{pid}/{quarter}")
        assert response.status_code == 200, response.text
        assert response.json() == expected, (pid, quarter)


async def test_scorecard_lists_filter_by_type_and_agree_with_single_scorecards(world):
    w, svc, _ = world
    expected = w.expected()
    body = (await get(svc, "/scorecards", params={"quarter": Q4})).json()
    assert body["quarter"] == Q4
    got = {c["partner_id"]: c for c in body["scorecards"]}
    assert set(got) == {pid for pid in w.id.values() if not pid.startswith("DL")}
    for pid, card in got.items():
        if (pid, Q4) in expected:
            assert card == expected[(pid, Q4)]
    resellers = (await get(svc, "/scorecards?quarter=2026-q4&partner_type=reseller")).json()
    assert {c["scorecard_type"] for c in resellers["scorecards"]} == {"reseller"}
    assert len(resellers["scorecards"]) == 6


async def test_scorecards_as_csv_by_format_or_accept_header(world):
    w, svc, _ = world
    expected = w.expected()
    response = await get(svc, f"/scorecards?quarter={Q4}&partner_type=distributor&format=csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["partner_id"] for r in rows] == [w.D1, w.D2]
    for row in rows:
        want = expected[(row["partner_id"], Q4)]
        assert row == {k: "" if v is None else str(v) for k, v in want.items()}
    single = await get(svc, f"/scorecards/{w.R3}/{Q4}", headers={"Accept": "text/csv"})
    (row,) = csv.DictReader(io.StringIO(single.text))
    assert (row["dark"], row["deals_rejected"], row["sell_through_revenue"]) == (
        "true",
        "1",
        "0.00",
    )


async def test_sql_views_give_the_numbers_the_http_endpoints_give(world):
    w, svc, _ = world
    async with svc.runtime.engine.connect() as conn:
        views = {
            (r.partner_id, r.quarter): r._mapping
            for r in await conn.execute(
                text("select * from bi.scorecard_quarterly where partner_id = any(:ids)"),
                {"ids": list(w.id.values())},
            )
        }
        ledger = await conn.scalar(
            text("select sum(amount) from bi.rebate_ledger where partner_id = :d and quarter = :q"),
            {"d": w.D1, "q": Q4},
        )
        lines = await conn.scalar(
            text("select sum(amount) from bi.sell_through_lines where distributor_id = :d"
                 " and quarter = :q"),
            {"d": w.D1, "q": Q4},
        )  # fmt: skip
        inventory = [
            dict(r._mapping)
            for r in await conn.execute(
                text("select * from bi.inventory_position where distributor_id = any(:d)"
                     " order by distributor_id, sku"),
                {"d": [w.D1, w.D2]},
            )
        ]  # fmt: skip
    for key, expected in w.expected().items():
        http = (await get(svc, f"/scorecards/{key[0]}/{key[1]}")).json()
        assert {k: plain(views[key][k]) for k in http} == http == expected
    # D1 has rows for every quarter from its enrolment to the last quarter with data
    assert sorted(q for p, q in views if p == w.D1) == ["2026-Q1", "2026-Q2", Q3, Q4]
    assert views[(w.D1, "2026-Q1")]["new_resellers"] == 3  # R1, R6, R7
    assert views[(w.R4, Q4)]["sell_in_revenue"] is None  # distributor-only columns are null
    assert ledger == Decimal("3.85")
    assert lines == Decimal("493.825")  # exact; the scorecard shows it rounded half-even
    http_inventory = (await get(svc, f"/inventory-positions?distributor_id={w.D1}")).json()
    assert http_inventory["positions"] == [
        {k: plain(v) for k, v in r.items()} for r in inventory if r["distributor_id"] == w.D1
    ]
    assert {(r["distributor_id"], r["sku"]): {k: plain(v) for k, v in r.items()}
            for r in inventory} == w.positions()  # fmt: skip


async def test_every_view_row_follows_the_python_scorecard_rules(world):
    """bi.scorecard_quarterly implements the rules in SQL; the same rules in Python, applied to
    the base facts of every row, must give the same values."""
    w, svc, _ = world
    ids = list(w.id.values())
    async with svc.runtime.engine.connect() as conn:

        async def rows(sql: str) -> list[Any]:
            return list(await conn.execute(text(sql), {"ids": ids}))

        cards = await rows("select * from bi.scorecard_quarterly where partner_id = any(:ids)")
        lines = await rows("select * from bi.sell_through_lines where distributor_id = any(:ids)")
        shipped = await rows("select * from bi.sell_in_shipments where distributor_id = any(:ids)")
        deals = await rows(
            "select * from bi.deal_registrations where status = 'APPROVED'"
            " and partner_id = any(:ids)"
        )
    # each partner from its enrolment quarter to 2026-Q4: D1 D2 R1 R6 R7 4, R3 2, R2 R4 1
    assert len(cards) == 24
    for c in cards:
        q = Quarter.parse(c.quarter)
        if c.scorecard_type == "distributor":
            mine = [x for x in lines if x.distributor_id == c.partner_id and x.quarter == c.quarter]
            sold = sum((x.amount for x in mine), Decimal(0))
            ins = [x for x in shipped if (x.distributor_id, x.quarter) == (c.partner_id, c.quarter)]
            bought = sum((x.amount for x in ins), Decimal(0))
            net: dict[str, int] = {}
            for x in mine:
                net[x.reseller_id] = net.get(x.reseller_id, 0) + x.quantity
            assert c.sell_through_revenue == money(sold)
            assert c.sell_in_revenue == money(bought)
            assert c.sell_through_to_sell_in == ratio(sold, bought)
            assert c.active_resellers == sum(is_active(u) for u in net.values())
        else:
            mine = [x for x in lines if x.reseller_id == c.partner_id and x.quarter == c.quarter]
            approved = [d for d in deals if d.partner_id == c.partner_id and d.quarter == c.quarter]
            assert c.sell_through_revenue == money(sum((x.amount for x in mine), Decimal(0)))
            assert c.dark == is_dark(c.enrolled_on, q, len(mine), len(approved))


async def test_qbr_report_is_offline_html_with_the_quarters_numbers(world):
    w, svc, _ = world
    response = await get(svc, f"/qbr/{w.D1}/{Q4}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert not re.search(r"""(src|href)\s*=\s*["']?https?://""", html)
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert html.count("<svg") == 4
    shown_numbers = ("1,630.00", "493.82", "0.3030", "69.73", "1.44", "3.85", "147.0")
    for shown in (*shown_numbers, w.R1, w.R2, "LOADING"):
        assert shown in html, shown
    alert_rows = re.findall(r'<tr class="alert"><td>([^<]*)</td>', html)
    assert alert_rows == ["SKU-A", "SKU-B", w.R3]  # loading SKUs, then the dark reseller


async def test_qbr_data_has_trend_top_resellers_supply_rebates_and_deltas(world):
    w, svc, _ = world
    data = (await get(svc, f"/qbr/{w.D1}/{Q4}.json")).json()
    assert (data["quarter"], data["previous_quarter"]) == (Q4, Q3)
    weeks = data["weekly_sell_through"]
    assert len(weeks) == 14 and weeks[0]["week_start"] == "2026-10-01"
    busy = {w_["week_start"]: (w_["units"], w_["revenue"]) for w_ in weeks if w_["units"]}
    assert busy == {
        "2026-10-05": (20, "399.80"),  # lines 2, 9, 10
        "2026-11-09": (2, "40.02"),  # lines 3, 4: 40.025 half-even
        "2026-11-30": (9, "54.00"),  # lines 11, 5, 6
    }
    assert [
        (r["rank"], r["reseller_id"], r["units"], r["revenue"], r["share_pct"],
         r["previous_revenue"], r["change"])
        for r in data["top_resellers"]
    ] == [
        (1, w.R1, 26, "393.83", "79.8", "199.90", "193.93"),
        (2, w.R2, 5, "100.00", "20.3", "0.00", "100.00"),
        (3, w.R6, 0, "0.00", "0.0", "0.00", "0.00"),
    ]  # fmt: skip
    assert data["inventory_as_of"] == "2026-12-02"
    supply = data["weeks_of_supply"]
    assert [(p["sku"], p["weeks_of_supply"], p["loading_flag"]) for p in supply] == [
        ("SKU-A", "69.73", True), ("SKU-B", None, True), ("SKU-C", "1.44", False)
    ]  # fmt: skip
    assert data["rebates_by_reason"] == [
        {"reason": "BASE", "accruals": 2, "amount": "3.80"},
        {"reason": "TIER_TRUE_UP", "accruals": 1, "amount": "0.05"},
        {"reason": "DEAL_REG_BONUS", "accruals": 0, "amount": "0.00"},
    ]
    deltas = {d["metric"]: (d["current"], d["previous"], d["change"], d["change_pct"])
              for d in data["quarter_over_quarter"]}  # fmt: skip
    assert deltas == {
        "sell_in_revenue": ("1630.00", "1000.00", "630.00", "63.0"),
        "sell_through_revenue": ("493.82", "199.90", "293.92", "147.0"),
        "sell_through_units": (31, 10, 21, "210.0"),
        "sell_through_to_sell_in": ("0.3030", "0.1999", "0.1031", "51.6"),
        "active_resellers": (2, 1, 1, "100.0"),
        "new_resellers": (1, 1, 0, "0.0"),
        "rebate_accrued": ("3.85", "2.00", "1.85", "92.5"),
    }
    network = {
        r["partner_id"]: (r["dark"], r["new_this_quarter"]) for r in data["reseller_network"]
    }
    assert network == {
        w.R1: (False, False), w.R2: (False, True), w.R3: (True, False),
        w.R6: (False, False), w.R7: (False, False),
    }  # fmt: skip


async def cli(svc: AnalyticsService, *args: str) -> tuple[int, str, str]:
    """The `channelstream` command in its own process, pointed at this analytics."""
    env = {**os.environ, "CHANNELSTREAM_ANALYTICS_URL": url(svc, ""), "COLUMNS": "200"}
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "channelstream"),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_cli_writes_the_qbr_package_and_shows_scorecards(world, tmp_path):
    w, svc, _ = world
    code, out, _ = await cli(svc, "qbr", w.D1, Q4, "--out", str(tmp_path / "pkg"))
    assert code == 0
    report = tmp_path / "pkg" / "report.html"
    assert out.strip().splitlines()[-1] == str(report.resolve())
    assert {p.name for p in (tmp_path / "pkg").iterdir()} == {
        "report.html", "data.json", "scorecard.csv", "quarter_over_quarter.csv",
        "weekly_sell_through.csv", "top_resellers.csv", "weeks_of_supply.csv",
        "rebates_by_reason.csv", "reseller_network.csv",
    }  # fmt: skip
    assert "493.82" in report.read_text() and "https://" not in report.read_text()
    data = json.loads((tmp_path / "pkg" / "data.json").read_text())
    assert data["scorecard"] == w.expected()[(w.D1, Q4)]
    top = list(csv.DictReader((tmp_path / "pkg" / "top_resellers.csv").open()))
    assert [(r["reseller_id"], r["revenue"]) for r in top] == [
        (w.R1, "393.83"), (w.R2, "100.00"), (w.R6, "0.00")
    ]  # fmt: skip

    code, out, _ = await cli(svc, "views", "scorecard", w.R3, Q4, "--csv")
    (row,) = csv.DictReader(io.StringIO(out))
    assert code == 0 and row["dark"] == "true" and row["partner_id"] == w.R3
    code, out, _ = await cli(svc, "views", "scorecards", Q4, "--type", "distributor")
    assert code == 0 and w.D1 in out and "1630.00" in out and "0.3030" in out
    assert w.R1 not in out  # only distributor scorecards

    code, _, err = await cli(svc, "qbr", w.R1, Q4, "--out", str(tmp_path / "no"))
    assert code == 1 and err.startswith("error: NOT_A_DISTRIBUTOR: ")
    assert not (tmp_path / "no").exists()


async def test_bad_requests_get_coded_errors(world):
    w, svc, _ = world
    cases = [
        (f"/scorecards/NOPE-{w.D1}/{Q4}", 404, "UNKNOWN_PARTNER"),
        (f"/scorecards/{w.D1}/2026-Q9", 400, "INVALID_QUARTER"),
        (f"/scorecards/{w.R4}/{Q3}", 404, "NO_SCORECARD"),  # enrolled in Q4: no earlier row
        ("/scorecards", 400, "MISSING_QUARTER"),
        (f"/scorecards?quarter={Q4}&partner_type=vendor", 400, "INVALID_PARTNER_TYPE"),
        (f"/scorecards?quarter={Q4}&format=xml", 400, "INVALID_FORMAT"),
        (f"/qbr/{w.R1}/{Q4}", 422, "NOT_A_DISTRIBUTOR"),
        (f"/qbr/NOPE-{w.D1}/{Q4}.json", 404, "UNKNOWN_DISTRIBUTOR"),
        (f"/inventory-positions?distributor_id=NOPE-{w.D1}", 404, "UNKNOWN_DISTRIBUTOR"),
    ]
    for path, status, code in cases:
        response = await get(svc, path)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), path
        assert response.json()["error"]["detail"]


async def test_accrual_with_an_impossible_period_is_dead_lettered_not_counted(world):
    w, svc, endpoints = world
    prefix = svc.runtime.settings.topic_prefix
    dead = DEAD_LETTERS["analytics"].full_name(prefix)
    consumer = AIOKafkaConsumer(bootstrap_servers=endpoints.kafka, auto_offset_reset="earliest")
    await consumer.start()
    try:
        parts = [TopicPartition(dead, p) for p in range(3)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        records: list[Any] = []

        async def arrived() -> bool:
            batch = await consumer.getmany(timeout_ms=200)
            records.extend(r for rs in batch.values() for r in rs)
            return bool(records)

        await eventually(arrived)
    finally:
        await consumer.stop()
    (record,) = records
    headers = dict(record.headers)
    assert headers["dlq_reason"].decode().startswith("HANDLER_ERROR: InvalidQuarter")
    assert "2026-13" in headers["dlq_reason"].decode()
    assert headers["dlq_source"].decode().startswith(REBATE_ACCRUED.full_name(prefix))
    async with svc.runtime.engine.connect() as conn:
        assert await conn.scalar(
            text("select count(*) from rebate_accruals where accrual_id = :a"),
            {"a": f"BAD-{w.D1}"},
        ) == 0  # fmt: skip


async def test_redelivery_and_resent_events_change_nothing(world):
    w, svc, endpoints = world
    before = await snapshot(svc)
    cards = [(await get(svc, f"/scorecards/{p}/{q}")).json() for p, q in w.expected()]
    prefix = svc.runtime.settings.topic_prefix

    # 1. the same records at the same offsets again (a consumer restart before its commit)
    consumer = AIOKafkaConsumer(bootstrap_servers=endpoints.kafka, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(t.full_name(prefix), p) for t in CONSUMED for p in range(3)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        records: list[Any] = []

        async def all_read() -> bool:
            batch = await consumer.getmany(timeout_ms=300)
            records.extend(r for rs in batch.values() for r in rs)
            return len(records) >= len(w.events) + 1

        await eventually(all_read)
    finally:
        await consumer.stop()
    assert len(records) == len(w.events) + 1
    store = ProjectionStore(svc.runtime.engine, PROJECTION)
    applier = BatchApplier(
        "analytics", store, facts_handler(prefix), svc.runtime.serde, CONSUMED, None
    )
    assert await applier.apply(records) == 0

    # 2. the same events re-sent at new offsets (an outbox relay re-sending after a crash)
    await publish(endpoints, prefix, w.events)
    await caught_up(svc, endpoints)
    assert await snapshot(svc) == before
    assert [(await get(svc, f"/scorecards/{p}/{q}")).json() for p, q in w.expected()] == cards


async def test_replay_from_the_topics_rebuilds_identical_tables(world, settings_for):
    _, svc, _ = world
    fresh = bootstrap(settings_for("analytics", topic_prefix=svc.runtime.settings.topic_prefix))
    try:
        result = await replay.rebuild(fresh.runtime)
        assert result.events >= len(World().events) + 1
        assert (result.applied, result.dead_lettered) == (result.events - 1, 1)  # bad accrual
        tables = [t for spec in fresh.runtime.projections for t in spec.tables]
        compared = await replay.compare(svc.runtime.engine, fresh.runtime.engine, tables)
        assert [(c.table, c.equal) for c in compared] == [(t, True) for t in tables]
        assert all(c.live_rows > 0 for c in compared)
    finally:
        await fresh.runtime.stop()


async def test_a_different_cross_topic_arrival_order_gives_the_same_scorecards(
    endpoints, topic_prefix, provisioned, settings_for
):
    """Lines, sell-in and accruals first, then deals, partners last (children before their
    distributors), each phase applied before the next is published."""
    prefix = f"{topic_prefix}ao{uuid.uuid4().hex[:6]}."
    await provision(endpoints, prefix)
    w = World()
    svc = bootstrap(settings_for("analytics", topic_prefix=prefix, http_port=testing.free_port()))
    await svc.start()
    try:
        await publish(endpoints, prefix, w.accruals[::-1] + w.lines[::-1] + w.sell_in)
        await caught_up(svc, endpoints)
        early = (await get(svc, f"/scorecards/{w.D1}/{Q4}")).json()
        assert early["error"]["code"] == "UNKNOWN_PARTNER"  # not enrolled yet
        await publish(endpoints, prefix, w.deals[::-1])
        await caught_up(svc, endpoints)
        await publish(endpoints, prefix, w.partners[::-1])
        await caught_up(svc, endpoints)
        for (pid, quarter), expected in w.expected().items():
            assert (await get(svc, f"/scorecards/{pid}/{quarter}")).json() == expected
        positions = (await get(svc, "/inventory-positions")).json()["positions"]
        assert {(p["distributor_id"], p["sku"]): p for p in positions} == w.positions()
    finally:
        await svc.stop()
