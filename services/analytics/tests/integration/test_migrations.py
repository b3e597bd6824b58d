"""Migrations over a database that already has data: 0002 fills the daily buckets and each
distributor's as_of from the lines stored before it."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from alembic import command
from alembic.config import Config
from analytics.bootstrap import MIGRATIONS
from channelstream_common import migrations, testing
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.integration

LINES = [  # report, line, distributor, sku, quantity, day
    ("R1", 1, "D1", "A", 5, date(2026, 10, 1)),
    ("R1", 2, "D1", "A", -2, date(2026, 10, 1)),
    ("R1", 3, "D1", "B", 7, date(2026, 10, 1)),
    ("R2", 1, "D1", "A", 4, date(2026, 12, 2)),
    ("R3", 1, "D2", "A", 1, date(2026, 11, 30)),
]


def test_upgrade_fills_buckets_and_as_of_from_the_lines_already_there(endpoints):
    name = f"analytics_migrations_{uuid.uuid4().hex[:8]}"
    url = testing.create_database(endpoints.postgres, name)
    engine = create_engine(url)
    try:
        migrations.upgrade(url, MIGRATIONS, "0001")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "insert into sell_through_lines (report_id, line_no, distributor_id,"
                    " reseller_id, sku, quantity, unit_price, currency, sold_on,"
                    " ingestion_path, event_id) values (:r, :n, :d, 'S', :s, :q, 1, 'USD',"
                    " :day, 'HTTP', :r || '-' || :n)"
                ),
                [dict(zip(("r", "n", "d", "s", "q", "day"), line, strict=True)) for line in LINES],
            )
        migrations.upgrade(url, MIGRATIONS)
        with engine.connect() as conn:
            buckets = conn.execute(text("select * from sell_through_daily order by 1, 2, 3"))
            as_of = conn.execute(text("select * from distributor_as_of order by 1"))
            assert [tuple(r) for r in buckets] == [
                ("D1", "A", date(2026, 10, 1), 3),
                ("D1", "A", date(2026, 12, 2), 4),
                ("D1", "B", date(2026, 10, 1), 7),
                ("D2", "A", date(2026, 11, 30), 1),
            ]
            assert [tuple(r) for r in as_of] == [
                ("D1", date(2026, 12, 2)),
                ("D2", date(2026, 11, 30)),
            ]
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        command.downgrade(config, "0001")
        with engine.connect() as conn:
            assert conn.scalar(text("select to_regclass('sell_through_daily')")) is None
            assert conn.scalar(text("select count(*) from sell_through_lines")) == len(LINES)
    finally:
        engine.dispose()
        testing.drop_database(endpoints.postgres, name)
