"""The sample dataset through all five services, each a separate process, on the real stack.

Expected numbers are computed here from the input files alone, with rules written out in this
file (validation, quarters, the default rebate program), not with the services' code.
"""

from __future__ import annotations

import csv
import json
import os
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from channelstream_cli import sample_data, services, stack
from channelstream_cli.commands import demo
from channelstream_cli.commands.replay import replay_database_name, replay_service
from channelstream_common import audit, inventory, testing
from channelstream_common import replay as replay_engine
from channelstream_common.db import make_engine
from channelstream_common.serde import AvroSerde
from channelstream_common.settings import Settings
from sqlalchemy import text

pytestmark = pytest.mark.integration
Q3 = "2026-Q3"
Q3_START, Q3_END = date(2026, 7, 1), date(2026, 9, 30)
CENT = Decimal("0.01")
CATALOG = stack.repo_root() / "services/sellthrough/sellthrough/data/catalog.csv"
TODAY = datetime.now(UTC).date()


def cents(x: Decimal) -> Decimal:
    return x.quantize(CENT, ROUND_HALF_EVEN)


def entitlement(revenue: Decimal) -> Decimal:
    """The default program: 1 % below 100 000, 2 % below 500 000, else 3 %, on all of R."""
    r = max(revenue, Decimal(0))
    rate = Decimal("0.01") if r < 100_000 else Decimal("0.02") if r < 500_000 else Decimal("0.03")
    return cents(rate * revenue)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@dataclass
class Expected:
    partners: dict[str, dict[str, str]]
    lines: list[dict[str, Any]]  # accepted lines, typed
    shipments: list[dict[str, Any]]
    deals: dict[str, dict[str, Any]]  # approved deals
    rejected_deals: dict[str, str]  # deal_id -> partner


def expected_from_files(data: sample_data.Dataset) -> Expected:
    skus = {r["sku"] for r in read_csv(CATALOG)}
    partners = {
        r["partner_id"]: r
        for r in read_csv(data.partners)
        if r["parent_distributor_id"] in ("", "DIST-NA", "DIST-EU", "DIST-UK")
    }
    lines = []
    for path in data.reports:
        for r in read_csv(path):
            try:
                qty, price = int(r["quantity"]), Decimal(r["unit_price"])
                sold_on = date.fromisoformat(r["sold_on"])
            except ValueError:
                continue
            reseller = partners.get(r["reseller_id"])
            if (
                qty == 0
                or price < 0
                or r["currency"] != "USD"
                or r["sku"] not in skus
                or sold_on > TODAY
                or reseller is None
                or date.fromisoformat(reseller["enrolled_on"]) > sold_on
            ):
                continue
            lines.append({**r, "quantity": qty, "unit_price": price, "sold_on": sold_on})
    shipments = [
        {
            **r,
            "quantity": int(r["quantity"]),
            "unit_cost": Decimal(r["unit_cost"]),
            "shipped_on": date.fromisoformat(r["shipped_on"]),
        }
        for r in read_csv(data.shipments)
    ]
    deals, rejected = {}, {}
    for d in json.loads(data.deals.read_text()):
        if d["deal_id"] in ("DEAL-CONFLICT", "DEAL-BY-DIST", "DEAL-NO-EVIDENCE"):
            rejected[d["deal_id"]] = d["partner_id"]
        else:
            deals[d["deal_id"]] = d
    return Expected(partners, lines, shipments, deals, rejected)


def in_q3(day: date) -> bool:
    return Q3_START <= day <= Q3_END


def bonus_deal(line: dict[str, Any], e: Expected) -> dict[str, Any] | None:
    deal = e.deals.get(line["deal_id"] or "")
    if deal is None or deal["partner_id"] != line["reseller_id"]:
        return None
    start = date.fromisoformat(deal["registered_on"])
    return deal if start <= line["sold_on"] <= start + timedelta(days=90) else None


# ---------------------------------------------------------------- the running system


@dataclass
class System:
    data: sample_data.Dataset
    answers: dict[str, Any]
    expected: Expected
    settings: dict[str, Settings]
    urls: dict[str, str]
    snapshot_at: datetime
    snapshot: dict[str, Decimal]  # incentives accruals live at snapshot_at


@pytest.fixture(scope="module")
def system(endpoints, tmp_path_factory) -> Iterator[System]:
    tag = uuid.uuid4().hex[:6]
    # topics of its own: the services start with no backlog and consumer groups of their own
    topic_prefix = _run(testing.provision(endpoints, testing.unique_prefix()))
    base = {
        "CHANNELSTREAM_KAFKA_BOOTSTRAP": endpoints.kafka,
        "CHANNELSTREAM_SCHEMA_REGISTRY_URL": endpoints.registry,
        "CHANNELSTREAM_POSTGRES_URL": endpoints.postgres,
        "CHANNELSTREAM_TOPIC_PREFIX": topic_prefix,
        "CHANNELSTREAM_LOG_JSON": "false",
        "CHANNELSTREAM_SELLTHROUGH_HOLD_GRACE_SECONDS": "5",
    }
    sets, settings, urls = [], {}, {}
    for name in services.SERVICES:
        db = testing.create_database(endpoints.postgres, f"{name}_e2e_{tag}")
        port = testing.free_port()
        sets.append(
            services.ServiceSet(
                tag=f"e2e-{tag}-",
                ports={name: port},
                env={**base, "CHANNELSTREAM_DATABASE_URL": db},
                names=(name,),
            )
        )
        settings[name] = replace(
            Settings.from_env(name),
            kafka_bootstrap=endpoints.kafka,
            schema_registry_url=endpoints.registry,
            database_url=db,
            topic_prefix=topic_prefix,
        )
        urls[name] = f"http://127.0.0.1:{port}"
    old_env = dict(os.environ)
    os.environ.update({f"CHANNELSTREAM_{n.upper()}_URL": u for n, u in urls.items()})
    try:
        for s in sets:
            s.up(timeout=240)
        data = sample_data.generate(tmp_path_factory.mktemp("sample"), CATALOG)
        first, rest = data.reports[:1], data.reports[1:]
        answers = demo.push(replace(data, reports=first))
        demo.settle("2026-Q2")
        snapshot_at = datetime.now(UTC)
        snapshot = _accruals(settings["incentives"])
        more = demo.push(replace(data, reports=rest))
        answers["reports"] += more["reports"]
        demo.settle()
        yield System(
            data, answers, expected_from_files(data), settings, urls, snapshot_at, snapshot
        )
    finally:
        for s in sets:
            s.down()
        for name in services.SERVICES:
            testing.drop_database(endpoints.postgres, f"{name}_e2e_{tag}")
        os.environ.clear()
        os.environ.update(old_env)


def _accruals(settings: Settings) -> dict[str, Decimal]:
    async def read() -> dict[str, Decimal]:
        engine = make_engine(settings.database_url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(text("select accrual_id, amount from accruals"))
                return {r.accrual_id: r.amount for r in rows}
        finally:
            await engine.dispose()

    return _run(read())


def _run(coro: Any) -> Any:
    """Run a coroutine on a thread of its own (pytest-asyncio owns this thread's loop); what it
    raises is raised here."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def get(system: System, service: str, path: str) -> Any:
    r = httpx.get(f"{system.urls[service]}{path}", timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


# ---------------------------------------------------------------- the numbers


def test_upload_outcomes_match_the_files(system: System):
    accepted = sum(r["accepted"] for r in system.answers["reports"])
    assert accepted == len(system.expected.lines)
    rejected: dict[str, int] = defaultdict(int)
    for r in system.answers["reports"]:
        for reason, n in r["rejected"].items():
            rejected[reason] += n
    bad_per_report = 6  # sample_data._bad_and_returns: one of each reason, in each Q3 report
    q3_reports = sum(1 for p in system.data.reports if p.stem[-7:] >= "2026-07")
    assert dict(rejected) == {
        r: q3_reports
        for r in (
            "UNKNOWN_SKU",
            "INVALID_QUANTITY",
            "UNSUPPORTED_CURRENCY",
            "FUTURE_DATE",
            "MALFORMED_ROW",
            "INVALID_PRICE",
        )
    }
    assert sum(rejected.values()) == bad_per_report * q3_reports


def test_distributor_scorecards_match_values_computed_from_the_files(system: System):
    e = system.expected
    for did in ("DIST-NA", "DIST-EU", "DIST-UK"):
        mine = [ln for ln in e.lines if ln["distributor_id"] == did]
        q3 = [ln for ln in mine if in_q3(ln["sold_on"])]
        revenue = sum((ln["quantity"] * ln["unit_price"] for ln in q3), Decimal(0))
        units = sum(ln["quantity"] for ln in q3)
        sell_in = sum(
            (
                s["quantity"] * s["unit_cost"]
                for s in e.shipments
                if s["distributor_id"] == did and in_q3(s["shipped_on"])
            ),
            Decimal(0),
        )
        net: dict[str, int] = defaultdict(int)
        for ln in q3:
            net[ln["reseller_id"]] += ln["quantity"]
        new = [
            p
            for p in e.partners.values()
            if p["parent_distributor_id"] == did and in_q3(date.fromisoformat(p["enrolled_on"]))
        ]
        card = get(system, "analytics", f"/scorecards/{did}/{Q3}")
        assert Decimal(card["sell_through_revenue"]) == cents(revenue), did
        assert card["sell_through_units"] == units
        assert Decimal(card["sell_in_revenue"]) == cents(sell_in)
        assert Decimal(card["sell_through_to_sell_in"]) == (revenue / sell_in).quantize(
            Decimal("0.0001"), ROUND_HALF_EVEN
        )
        assert card["active_resellers"] == sum(1 for n in net.values() if n > 0)
        assert card["new_resellers"] == len(new) == 2
        assert Decimal(card["rebate_accrued"]) == entitlement(revenue)
        assert card["loading_skus"] == sum(
            1 for p in expected_inventory(system, did).values() if p.loading_flag
        )
        statement = get(system, "incentives", f"/statements/{did}/{Q3}")
        assert Decimal(str(statement["total"])) == entitlement(revenue)


def test_rebate_tiers_are_crossed_as_designed(system: System):
    revenue = {
        d: sum(
            (
                ln["quantity"] * ln["unit_price"]
                for ln in system.expected.lines
                if ln["distributor_id"] == d and in_q3(ln["sold_on"])
            ),
            Decimal(0),
        )
        for d in ("DIST-NA", "DIST-EU", "DIST-UK")
    }
    assert revenue["DIST-NA"] >= 500_000
    assert 100_000 <= revenue["DIST-EU"] < 500_000
    assert revenue["DIST-UK"] < 100_000


def test_reseller_scorecards_match_values_computed_from_the_files(system: System):
    e = system.expected
    resellers = [p for p in e.partners.values() if p["partner_type"] != "DISTRIBUTOR"]
    assert len(resellers) == 36
    for p in resellers:
        rid = p["partner_id"]
        q3 = [ln for ln in e.lines if ln["reseller_id"] == rid and in_q3(ln["sold_on"])]
        mine = [
            d
            for d in e.deals.values()
            if d["partner_id"] == rid and in_q3(date.fromisoformat(d["registered_on"]))
        ]
        converted = {
            ln["deal_id"]
            for ln in e.lines
            if ln["reseller_id"] == rid and ln["deal_id"] in {d["deal_id"] for d in mine}
        }
        bonus = sum(
            (
                cents(Decimal("0.02") * ln["quantity"] * ln["unit_price"])
                for ln in e.lines
                if ln["reseller_id"] == rid and bonus_deal(ln, e) and in_q3(ln["sold_on"])
            ),
            Decimal(0),
        )
        enrolled_before = date.fromisoformat(p["enrolled_on"]) < Q3_START
        card = get(system, "analytics", f"/scorecards/{rid}/{Q3}")
        assert Decimal(card["sell_through_revenue"]) == cents(
            sum((ln["quantity"] * ln["unit_price"] for ln in q3), Decimal(0))
        ), rid
        assert card["deals_registered"] == len(mine), rid
        assert card["deals_rejected"] == sum(1 for r in e.rejected_deals.values() if r == rid)
        assert card["deals_converted"] == len(converted), rid
        assert Decimal(card["rebate_accrued"]) == bonus, rid
        assert card["dark"] is (enrolled_before and not q3 and not mine), rid
    assert (
        sum(
            1
            for p in resellers
            if get(system, "analytics", f"/scorecards/{p['partner_id']}/{Q3}")["dark"]
        )
        == 6
    )


def expected_inventory(system: System, did: str) -> dict[str, inventory.InventoryPosition]:
    e = system.expected
    mine = [ln for ln in e.lines if ln["distributor_id"] == did]
    as_of = max(ln["sold_on"] for ln in mine)
    start = inventory.window_start(as_of)
    out = {}
    for sku in sorted(
        {s["sku"] for s in e.shipments if s["distributor_id"] == did} | {ln["sku"] for ln in mine}
    ):
        sold = sum(ln["quantity"] for ln in mine if ln["sku"] == sku)
        window = sum(
            ln["quantity"] for ln in mine if ln["sku"] == sku and start <= ln["sold_on"] <= as_of
        )
        shipped = sum(
            s["quantity"] for s in e.shipments if s["distributor_id"] == did and s["sku"] == sku
        )
        out[sku] = inventory.position(shipped, sold, window)
    return out


def test_inventory_view_matches_values_computed_from_the_files(system: System):
    for did in ("DIST-NA", "DIST-EU", "DIST-UK"):
        rows = {
            r["sku"]: r
            for r in get(system, "sellthrough", f"/inventory?distributor_id={did}")["rows"]
        }
        expected = expected_inventory(system, did)
        assert set(rows) == set(expected), did
        for sku, pos in expected.items():
            row = rows[sku]
            assert row["sell_in_units"] == pos.sell_in_units, (did, sku)
            assert row["sell_through_units"] == pos.sell_through_units, (did, sku)
            assert row["on_hand"] == pos.on_hand
            assert row["loading_flag"] is pos.loading_flag, (did, sku)
        assert rows["FW-1100"]["loading_flag"] is True  # over-shipped by design


# ---------------------------------------------------------------- replay and audit (issue 7)


@pytest.fixture
def replay(endpoints) -> Iterator[Callable[..., dict[str, Any]]]:
    """`replay(settings, stamp, until=None, keep=False)`: the CLI's replay of one service. Its
    databases are dropped after the test: those kept for it to read, and any a failure left."""
    made: list[str] = []

    def run(
        settings: Settings, stamp: str, until: datetime | None = None, keep: bool = False
    ) -> dict[str, Any]:
        made.append(replay_database_name(settings.database_url, stamp)[1])
        return _run(replay_service(settings.service, until, keep, stamp, False, settings))

    yield run
    for name in made:
        testing.drop_database(endpoints.postgres, name)


def test_replay_of_every_service_equals_the_live_projection(system: System, replay):
    stamp = datetime.now(UTC).strftime("%H%M%S%f")
    for name in services.SERVICES:
        report = replay(system.settings[name], stamp)
        assert report["events"] > 0, name
        unequal = [(t["table"], t["differences"]) for t in report["tables"] if not t["equal"]]
        assert report["equal"] is True, (name, unequal)
        assert {t["table"] for t in report["tables"]} >= {"projection_positions"}


def test_replay_twice_gives_identical_tables(system: System, replay):
    """No wall clock, randomness or iteration order in any handler: two rebuilds agree."""
    a = replay(system.settings["incentives"], "twicea", keep=True)
    b_settings = replace(
        system.settings["incentives"],
        database_url=system.settings["incentives"].database_url.rsplit("/", 1)[0]
        + "/"
        + a["replay_database"],
    )
    b = replay(b_settings, "twiceb")
    assert b["equal"] is True, [t for t in b["tables"] if not t["equal"]]


def test_a_replay_that_fails_leaves_no_database_behind(
    system: System, replay, endpoints, monkeypatch: pytest.MonkeyPatch
):
    async def topics_gone(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the topics went away")

    monkeypatch.setattr(replay_engine, "rebuild", topics_gone)
    settings = system.settings["analytics"]
    stamp = datetime.now(UTC).strftime("%H%M%S%f") + "failed"
    with pytest.raises(RuntimeError, match="the topics went away"):
        replay(settings, stamp)
    name = replay_database_name(settings.database_url, stamp)[1]
    with psycopg.connect(f"{endpoints.postgres}/postgres".replace("+psycopg", "")) as conn:
        left = conn.execute("select count(*) from pg_database where datname = %s", (name,))
        assert left.fetchone() == (0,)


def test_point_in_time_replay_equals_the_state_live_at_that_instant(system: System, replay):
    settings = system.settings["incentives"]
    report = replay(settings, "pit", until=system.snapshot_at, keep=True)
    rebuilt = _accruals(
        replace(
            settings,
            database_url=settings.database_url.rsplit("/", 1)[0] + "/" + report["replay_database"],
        )
    )
    assert rebuilt == system.snapshot
    assert 0 < len(rebuilt) < len(_accruals(settings))


def test_audit_of_a_tier_true_up_names_every_contributing_line(system: System):
    s = system.settings["incentives"]
    history = _run(
        audit.History.load(s.kafka_bootstrap, AvroSerde(s.schema_registry_url, s.topic_prefix))
    )
    true_ups = [
        a
        for a in history.accruals
        if a.value["reason"] == "TIER_TRUE_UP"
        and a.value["partner_id"] == "DIST-NA"
        and a.value["period"] == Q3
    ]
    assert len(true_ups) >= 2  # the 100 000 and the 500 000 thresholds
    for accrual in true_ups:
        chain = audit.explain_accrual(accrual, history)
        lines = chain["contributing_lines"]
        cumulative = sum(
            (Decimal(c["quantity"]) * Decimal(c["unit_price"]) for c in lines), Decimal(0)
        )
        last = lines[-1]
        before = cumulative - Decimal(last["quantity"]) * Decimal(last["unit_price"])
        threshold = next(
            t for t in (Decimal(100_000), Decimal(500_000)) if before < t <= cumulative
        )
        assert threshold
        assert Decimal(chain["basis_amount"]) == cumulative
        assert chain["source"]["report_id"] == last["report_id"]
        assert chain["source"]["upload"]["ingestion_path"] == "HTTP"
        assert chain["source"]["upload"]["submitted_by"] == "demo"
        assert chain["source"]["raw_line"]
        assert {c["distributor_id"] for c in lines} == {"DIST-NA"}
