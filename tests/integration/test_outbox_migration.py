"""Outbox v2 (each service's migration 0002) over an outbox with rows: published rows go,
pending rows keep their headers (JSON pairs become the packed text), and back on downgrade."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from alembic import command
from channelstream_common import migrations, testing
from channelstream_common.outbox import unpack_headers
from dealreg.bootstrap import MIGRATIONS as DEALREG
from incentives.bootstrap import MIGRATIONS as INCENTIVES
from onboarding.bootstrap import MIGRATIONS as ONBOARDING
from sellthrough.bootstrap import MIGRATIONS as SELLTHROUGH
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.integration

PENDING = [["ce_id", "e-2"], ["dlq_reason", "BAD: a\x1eb"], ["content-type", "text/plain"]]
INSERT = text(
    "insert into outbox (topic, key, value, headers, event_id, published_at)"
    " values ('t', 'k', 'v', cast(:h as jsonb), :e, :p)"
)


@pytest.mark.parametrize(
    "service_migrations",
    [ONBOARDING, DEALREG, SELLTHROUGH, INCENTIVES],
    ids=["onboarding", "dealreg", "sellthrough", "incentives"],
)
def test_upgrade_keeps_pending_rows_with_packed_headers_and_downgrade_restores_them(
    endpoints, service_migrations: Path
):
    name = f"outbox_migration_{uuid.uuid4().hex[:8]}"
    url = testing.create_database(endpoints.postgres, name)
    engine = create_engine(url)
    try:
        migrations.upgrade(url, service_migrations, "0001")
        with engine.begin() as conn:
            conn.execute(INSERT, {"h": json.dumps([["ce_id", "e-1"]]), "e": "e-1", "p": "now"})
            conn.execute(INSERT, {"h": json.dumps(PENDING), "e": "e-2", "p": None})
            conn.execute(INSERT, {"h": "[]", "e": "e-3", "p": None})
        migrations.upgrade(url, service_migrations)
        with engine.connect() as conn:
            rows = conn.execute(text("select event_id, headers from outbox order by id")).all()
        assert [r.event_id for r in rows] == ["e-2", "e-3"]
        assert unpack_headers(rows[0].headers) == [
            ("ce_id", b"e-2"), ("dlq_reason", b"BAD: a b"), ("content-type", b"text/plain")
        ]  # fmt: skip
        assert rows[1].headers == ""

        command.downgrade(migrations._config(url, service_migrations), "0001")
        with engine.connect() as conn:
            rows = conn.execute(
                text("select event_id, headers, published_at from outbox order by id")
            ).all()
            pending = conn.scalar(text("select to_regclass('outbox_pending')"))
        assert [(r.event_id, r.headers, r.published_at) for r in rows] == [
            ("e-2", [[k, v.replace("\x1e", " ")] for k, v in PENDING], None),
            ("e-3", [], None),
        ]
        assert pending == "outbox_pending"
    finally:
        engine.dispose()
        testing.drop_database(endpoints.postgres, name)
