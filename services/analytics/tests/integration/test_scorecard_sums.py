"""bi.scorecard_quarterly over the sums the facts projection keeps (migration 0004), against
0001's definition, which aggregated every fact at read time, created beside it as `bi_old`: the
same rows, column for column, on a varied channel; the same sums whatever the order, batching
or redelivery of the facts; the migration's backfill equal to what the projection builds."""

from __future__ import annotations

import importlib.util
import random
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from analytics.adapters import tables
from analytics.adapters.tables import SCORECARD_TABLES
from analytics.bootstrap import MIGRATIONS
from analytics.service_layer.projection import record
from channelstream_common import migrations, testing
from channelstream_common.db import make_engine
from sqlalchemy import Engine, Table, create_engine, text

pytestmark = pytest.mark.integration

Facts = dict[Table, list[tuple[Any, ...]]]
SUMS = [t.name for t in SCORECARD_TABLES]


def migration(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, MIGRATIONS / "versions" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


OLD_VIEW = (
    migration("0004_scorecard_sums")
    .initial_scorecard_view()
    .replace("create view bi.scorecard_quarterly", "create view bi_old.scorecard_quarterly", 1)
)

# ---------------------------------------------------------------- a varied channel


def fact(table: Table, **values: Any) -> tuple[Any, ...]:
    assert set(values) <= {c.name for c in table.c}
    return tuple(values.get(c.name) for c in table.c)


def partner(pid: str, kind: str, parent: str | None, enrolled: date) -> tuple[Any, ...]:
    return fact(tables.partners, partner_id=pid, legal_name=f"{pid} Ltd", partner_type=kind,
                tier="GOLD", parent_distributor_id=parent, territories=["US"],
                enrolled_on=enrolled, event_id=f"p-{pid}")  # fmt: skip


def line(
    report: str, no: int, dist: str, res: str, qty: int, price: str, day: date,
    deal: str | None = None,
) -> tuple[Any, ...]:  # fmt: skip
    return fact(tables.sell_through_lines, report_id=report, line_no=no, distributor_id=dist,
                reseller_id=res, sku="SKU-A", quantity=qty, unit_price=Decimal(price),
                currency="USD", sold_on=day, deal_id=deal, ingestion_path="KAFKA",
                event_id=f"l-{report}-{no}")  # fmt: skip


def shipment(sid: str, dist: str, qty: int, cost: str, day: date) -> tuple[Any, ...]:
    return fact(tables.sell_in_shipments, shipment_id=sid, distributor_id=dist, sku="SKU-A",
                quantity=qty, unit_cost=Decimal(cost), currency="USD", shipped_on=day,
                ingestion_path="HTTP", event_id=f"s-{sid}")  # fmt: skip


def deal(did: str, pid: str, day: date) -> tuple[Any, ...]:
    return fact(tables.deals, deal_id=did, partner_id=pid, customer_key=f"c-{did}",
                customer_name="Acme", customer_country="US", estimated_value=Decimal("10.00"),
                currency="USD", expected_close_on=day, registered_on=day,
                protection_expires_on=day + timedelta(90), event_id=f"d-{did}")  # fmt: skip


def rejection(eid: str, pid: str, registered: date | None, occurred: date) -> tuple[Any, ...]:
    return fact(tables.deal_rejections, event_id=eid, deal_id=f"X-{eid}", partner_id=pid,
                reason="CONFLICT", detail="conflict", registered_on=registered,
                occurred_on=occurred)  # fmt: skip


def accrual(aid: str, pid: str, period: str, reason: str, amount: str) -> tuple[Any, ...]:
    return fact(tables.rebate_accruals, accrual_id=aid, partner_id=pid, program_id="default",
                program_version=1, period=period, reason=reason, basis_amount=Decimal(0),
                rate=Decimal(0), amount=Decimal(amount), source_event_id=f"src-{aid}",
                source_topic="x", event_id=aid)  # fmt: skip


def channel() -> Facts:
    """3 distributors (D3 without any fact), 7 resellers, and lines of an unenrolled
    distributor (DX) and reseller (RX), over 2025-Q3 .. 2027-Q1."""
    d = date
    facts: Facts = {
        tables.partners: [
            partner("D1", "DISTRIBUTOR", None, d(2025, 8, 1)),
            partner("D2", "DISTRIBUTOR", None, d(2026, 1, 10)),
            partner("D3", "DISTRIBUTOR", None, d(2026, 5, 1)),
            partner("R1", "RESELLER", "D1", d(2025, 9, 15)),
            partner("R2", "VAR", "D1", d(2026, 2, 1)),
            partner("R3", "MSP", "D2", d(2026, 3, 1)),
            partner("R4", "RESELLER", "D1", d(2026, 6, 1)),  # sold before it enrolled
            partner("R5", "RESELLER", "D2", d(2025, 12, 1)),
            partner("R6", "SI", "D2", d(2025, 10, 1)),
            partner("R7", "ISV", "D1", d(2025, 11, 1)),  # never sells: dark
        ],
        tables.sell_through_lines: [
            line("E", 1, "D1", "R5", 3, "10.0000", d(2026, 2, 1)),  # R5 nets 0 in Q1: not active
            line("E", 2, "D1", "R5", -3, "10.0000", d(2026, 3, 1)),
            line("E", 3, "D2", "R6", -2, "7.1250", d(2026, 5, 5)),  # only a return
            line("E", 4, "D1", "R4", 2, "3.3333", d(2026, 1, 20)),
            line("E", 5, "D2", "R3", 1, "0.0050", d(2026, 9, 30)),  # 0.005: half-even 0.00
            line("E", 6, "D2", "R3", 1, "0.0150", d(2026, 8, 30)),
            line("E", 7, "D1", "R1", 1, "1.0000", d(2026, 5, 1), "DL1"),  # DL1 converted
            line("E", 8, "D1", "R1", 1, "1.0000", d(2026, 5, 2), "DL2"),  # R2's deal: not R2's
            line("E", 9, "D1", "R1", 4, "2.5000", d(2026, 7, 3), "DL4"),
            line("E", 10, "DX", "R1", 5, "9.9999", d(2026, 7, 4)),  # distributor not enrolled
            line("E", 11, "D1", "RX", 6, "4.0000", d(2026, 7, 5)),  # reseller not enrolled
        ],
        tables.sell_in_shipments: [
            shipment("S1", "D1", 100, "3.3333", d(2025, 9, 1)),
            shipment("S2", "D1", 50, "2.1111", d(2026, 4, 2)),
            shipment("S3", "D2", 20, "0.0050", d(2026, 8, 1)),
            shipment("S4", "DX", 7, "1.0000", d(2026, 1, 1)),
        ],
        tables.deals: [
            deal("DL1", "R1", d(2025, 12, 10)),
            deal("DL2", "R2", d(2026, 2, 5)),
            deal("DL3", "R3", d(2026, 4, 1)),
            deal("DL4", "R1", d(2026, 7, 1)),
        ],
        tables.deal_rejections: [
            rejection("X1", "R2", d(2026, 3, 3), d(2026, 3, 3)),
            rejection("X2", "R7", None, d(2026, 8, 8)),
        ],
        tables.rebate_accruals: [
            accrual("A1", "D1", "2025-Q4", "BASE", "1.10"),
            accrual("A2", "D1", "2026-Q2", "BASE", "4.40"),
            accrual("A3", "D1", "2026-Q2", "TIER_TRUE_UP", "-0.60"),  # a downward true-up
            accrual("A4", "R1", "2026-Q3", "DEAL_REG_BONUS", "8.00"),
            accrual("A5", "R3", "2027-Q1", "BASE", "0.05"),  # no line in 2027-Q1: ends the grid
            accrual("A6", "R6", "2026-Q2", "BASE", "-0.07"),
            accrual("A7", "RY", "2026-Q1", "BASE", "2.00"),  # partner not enrolled
        ],
    }
    rng = random.Random(4)
    sellers, buyers = ["D1", "D2", "DX"], ["R1", "R2", "R3", "RX"]
    for no in range(1, 301):
        facts[tables.sell_through_lines].append(
            line("RND", no, rng.choice(sellers), rng.choice(buyers), rng.randrange(-3, 13),
                 str(Decimal(rng.randrange(1, 500_000)).scaleb(-4)),
                 d(2025, 10, 1) + timedelta(rng.randrange(365)),
                 rng.choice([None, None, "DL1", "DL2", "DL3", "DL4"]))
        )  # fmt: skip
    return facts


def batches(facts: Facts, seed: int, size: int) -> Iterator[Facts]:
    """Every fact once, in a shuffled order, cut into batches of `size` across tables."""
    rows = [(t, r) for t, rs in facts.items() for r in rs]
    random.Random(seed).shuffle(rows)
    for i in range(0, len(rows), size):
        batch: Facts = {}
        for table, row in rows[i : i + size]:
            batch.setdefault(table, []).append(row)
        yield batch


# ---------------------------------------------------------------- databases


async def apply(url: str, parts: Iterator[Facts] | Sequence[Facts]) -> None:
    engine = make_engine(url)
    try:
        for part in parts:
            async with engine.begin() as conn:
                await record(conn, part)
    finally:
        await engine.dispose()


def checksums(engine: Engine, names: Sequence[str]) -> dict[str, str]:
    with engine.connect() as conn:
        return {
            n: conn.scalar(
                text(f"select md5(coalesce(string_agg(t::text, '|' order by t::text), ''))"
                     f" from {n} t")
            )
            for n in names
        }  # fmt: skip


def rows(engine: Engine, view: str, where: str = "true", **params: Any) -> list[str]:
    with engine.connect() as conn:
        result = conn.execute(
            text(f"select v::text from {view} v where {where} order by partner_id, quarter"),
            params,
        )
        return list(result.scalars())


def downgrade(url: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.downgrade(config, revision)


@pytest.fixture(scope="module")
def database(endpoints: testing.Endpoints) -> Iterator[tuple[str, Engine]]:
    name = f"analytics_sums_{uuid.uuid4().hex[:8]}"
    url = testing.create_database(endpoints.postgres, name)
    engine = create_engine(url)
    try:
        migrations.upgrade(url, MIGRATIONS)
        with engine.begin() as conn:
            conn.execute(text("create schema bi_old"))
            conn.execute(text(OLD_VIEW))
        yield url, engine
    finally:
        engine.dispose()
        testing.drop_database(endpoints.postgres, name)


@pytest.fixture(scope="module")
async def channel_db(database: tuple[str, Engine]) -> tuple[str, Engine]:
    url, _ = database
    await apply(url, batches(channel(), seed=1, size=40))
    return database


# ---------------------------------------------------------------- tests


def test_the_view_keeps_its_columns_names_types_and_order(database):
    _, engine = database
    sql = (
        "select attnum, attname, format_type(atttypid, atttypmod) from pg_attribute"
        " where attrelid = cast(:v as regclass) and attnum > 0 order by attnum"
    )
    with engine.connect() as conn:
        new = list(conn.execute(text(sql), {"v": "bi.scorecard_quarterly"}))
        old = list(conn.execute(text(sql), {"v": "bi_old.scorecard_quarterly"}))
    assert len(new) == 22 and new == old


def test_the_view_gives_every_row_the_old_definition_gives(channel_db):
    _, engine = channel_db
    new, old = rows(engine, "bi.scorecard_quarterly"), rows(engine, "bi_old.scorecard_quarterly")
    assert new == old
    # the channel reaches the cases it is made of
    with engine.connect() as conn:
        card = {
            (r.partner_id, r.quarter): r
            for r in conn.execute(text("select * from bi.scorecard_quarterly"))
        }
    assert len(card) == len(new) and {q for _, q in card} >= {"2025-Q3", "2027-Q1"}
    assert {q for p, q in card if p == "D3"} == {"2026-Q2", "2026-Q3", "2026-Q4", "2027-Q1"}
    assert min(q for p, q in card if p == "R4") == "2026-Q1"  # sold before it enrolled
    r5 = card[("R5", "2026-Q1")]  # sold and took back: not active for D1, and not dark
    assert (r5.sell_through_units, r5.sell_through_revenue, r5.dark) == (0, Decimal("0.00"), False)
    assert card[("R6", "2026-Q2")].sell_through_units == -2
    assert card[("R3", "2027-Q1")].rebate_accrued == Decimal("0.05")  # a quarter without lines
    assert card[("D1", "2026-Q2")].rebate_accrued == Decimal("3.80")  # with a true-up
    assert card[("R7", "2026-Q3")].dark is True
    assert card[("R1", "2025-Q4")].deals_converted == 1  # DL1, by a line of 2026-Q2


@pytest.mark.parametrize(
    ("where", "params"),
    [
        ("partner_id = :p and quarter = :q", {"p": "D1", "q": "2026-Q1"}),
        ("partner_id = :p and quarter = :q", {"p": "R5", "q": "2026-Q1"}),
        ("quarter = :q", {"q": "2026-Q3"}),
        ("partner_id = :p", {"p": "R1"}),
        ("parent_distributor_id = :p and quarter = :q", {"p": "D1", "q": "2026-Q2"}),
    ],
)
def test_filtered_reads_agree_with_the_old_definition(channel_db, where, params):
    _, engine = channel_db
    new = rows(engine, "bi.scorecard_quarterly", where, **params)
    assert new and new == rows(engine, "bi_old.scorecard_quarterly", where, **params)


def test_reading_scorecards_scans_no_line_and_no_accrual(channel_db):
    _, engine = channel_db

    def relations(node: Mapping[str, Any]) -> set[str]:
        found = {node["Relation Name"]} if "Relation Name" in node else set()
        for child in node.get("Plans", ()):
            found |= relations(child)
        return found

    for where in ("partner_id = 'D1' and quarter = '2026-Q1'", "quarter = '2026-Q1'"):
        with engine.connect() as conn:
            (plan,) = conn.scalar(
                text(f"explain (format json) select * from bi.scorecard_quarterly where {where}")
            )
        scanned = relations(plan["Plan"])
        assert "reseller_quarter_sales" in scanned
        assert not scanned & {"sell_through_lines", "rebate_accruals"}, where


async def test_any_order_and_batching_builds_the_same_sums(channel_db, endpoints):
    _, engine = channel_db
    name = f"analytics_sums_{uuid.uuid4().hex[:8]}"
    url = testing.create_database(endpoints.postgres, name)
    other = create_engine(url)
    try:
        migrations.upgrade(url, MIGRATIONS)
        facts = channel()
        await apply(url, batches(facts, seed=2, size=7))
        await apply(url, batches(facts, seed=3, size=100))  # everything once more
        assert checksums(other, SUMS) == checksums(engine, SUMS)
        assert rows(other, "bi.scorecard_quarterly") == rows(engine, "bi.scorecard_quarterly")
    finally:
        other.dispose()
        testing.drop_database(endpoints.postgres, name)


def test_downgrade_restores_the_old_view_and_upgrade_backfills_what_the_projection_built(
    channel_db,
):
    url, engine = channel_db
    live = checksums(engine, SUMS)
    cards = rows(engine, "bi.scorecard_quarterly")
    downgrade(url, "0003")
    with engine.connect() as conn:
        assert [conn.scalar(text("select to_regclass(:t)"), {"t": t}) for t in SUMS] == [None] * 3
        old, restored = (
            conn.scalar(text("select pg_get_viewdef(cast(:v as regclass))"), {"v": v})
            for v in ("bi_old.scorecard_quarterly", "bi.scorecard_quarterly")
        )
    assert restored == old
    assert rows(engine, "bi.scorecard_quarterly") == cards
    migrations.upgrade(url, MIGRATIONS)
    assert checksums(engine, SUMS) == live
    assert rows(engine, "bi.scorecard_quarterly") == cards


async def test_redelivered_facts_change_no_sum(channel_db):
    """Last: it adds one line."""
    url, engine = channel_db
    before = checksums(engine, [*SUMS, "bi.scorecard_quarterly"])
    old = {t: rs[::3] for t, rs in channel().items()}
    await apply(url, [old])  # known facts only: the staged path, nothing new
    assert checksums(engine, [*SUMS, "bi.scorecard_quarterly"]) == before

    def sums() -> tuple[Any, ...]:
        with engine.connect() as conn:
            return tuple(conn.execute(text(
                "select units, revenue, lines from reseller_quarter_sales"
                " where (distributor_id, quarter, reseller_id) = ('D3', '2026-Q3', 'R3')"
            )).one_or_none() or ())  # fmt: skip

    new = line("NEW", 1, "D3", "R3", 2, "1.5000", date(2026, 8, 1), "DL3")
    assert sums() == ()
    lines = [new, *old[tables.sell_through_lines], new]
    await apply(url, [{**old, tables.sell_through_lines: lines}])
    assert sums() == (2, Decimal("3.0000"), 1)  # counted once
    with engine.connect() as conn:
        assert conn.scalar(text("select count(*) from deal_conversions where deal_id = 'DL3'"
                                " and reseller_id = 'R3'")) == 1  # fmt: skip
    assert rows(engine, "bi.scorecard_quarterly") == rows(engine, "bi_old.scorecard_quarterly")
