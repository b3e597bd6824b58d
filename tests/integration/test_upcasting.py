"""Schema evolution does not break replay: v1 and v2 records of SellThroughReported side by side
in one topic rebuild the right projection (issue 7)."""

from __future__ import annotations

import io
import struct
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import fastavro
import pytest
from channelstream_common import schemas
from channelstream_common.events import new_metadata
from channelstream_common.publisher import EventPublisher
from channelstream_common.replay import rebuild
from channelstream_common.serde import AvroSerde
from channelstream_common.topics import SELL_THROUGH_REPORTED
from sqlalchemy import text

pytestmark = pytest.mark.integration


def line(dist: str, n: int, **extra: Any) -> dict[str, Any]:
    return {
        "metadata": new_metadata("sellthrough"),
        "report_id": f"UP-{dist}",
        "line_no": n,
        "distributor_id": dist,
        "reseller_id": f"{dist}-R",
        "sku": "FW-1100",
        "product_line": "Firewalls",
        "quantity": n,
        "unit_price": Decimal("10.5000"),
        "currency": "USD",
        "sold_on": date(2026, 8, n),
        "end_customer_name": None,
        "end_customer_country": None,
        "deal_id": None,
        "upload_id": None,
        "ingestion_path": "HTTP",
        "submitted_by": "upcast-test",
        "raw_line": f"line {n}",
        "line_hash": f"h{n}",
        **extra,
    }


async def test_replay_over_mixed_v1_and_v2_records_builds_the_right_projection(
    endpoints, topic_prefix, provisioned, settings_for
):
    v1, v2 = schemas.versions("SellThroughReported")[:2]
    assert "end_customer_domain" not in {f["name"] for f in v1["fields"]}
    serde = AvroSerde(endpoints.registry, topic_prefix)
    subject = serde.subject(SELL_THROUGH_REPORTED)
    v1_id = await serde.client.register(subject, v1)
    v2_id = await serde.client.register(subject, v2)
    assert v1_id != v2_id
    dist = f"UP{uuid.uuid4().hex[:6].upper()}"
    publisher = EventPublisher(endpoints.kafka, serde, "sellthrough")
    await publisher.start()
    try:
        parsed_v1 = fastavro.parse_schema(v1)
        for n in (1, 2, 3):  # old records, written by a v1 producer
            out = io.BytesIO()
            out.write(struct.pack(">bI", 0, v1_id))
            fastavro.schemaless_writer(out, parsed_v1, line(dist, n))
            await publisher.send_raw(SELL_THROUGH_REPORTED, out.getvalue(), dist.encode(), [])
        for n in (4, 5):  # new records carry the v2 field
            await publisher.publish(
                SELL_THROUGH_REPORTED, line(dist, n, end_customer_domain=f"c{n}.example")
            )
    finally:
        await publisher.stop()

    from analytics.bootstrap import bootstrap

    svc = bootstrap(settings_for("analytics"))
    try:
        result = await rebuild(svc.runtime)
        assert result.dead_lettered == 0
        async with svc.runtime.engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "select line_no, quantity, amount from bi.sell_through_lines"
                        " where distributor_id = :d order by line_no"
                    ),
                    {"d": dist},
                )
            ).all()
    finally:
        await svc.runtime.stop()  # never started, it still has a producer to close
    assert [(r.line_no, r.quantity) for r in rows] == [(n, n) for n in (1, 2, 3, 4, 5)]
    assert sum(r.amount for r in rows) == Decimal("10.5") * 15

    old = await serde.decode(SELL_THROUGH_REPORTED, _framed(v1_id, parsed_v1, line(dist, 9)))
    assert old["end_customer_domain"] is None  # upcast: the v2 reader fills the default


def _framed(schema_id: int, schema: Any, value: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    out.write(struct.pack(">bI", 0, schema_id))
    fastavro.schemaless_writer(out, schema, value)
    return out.getvalue()
