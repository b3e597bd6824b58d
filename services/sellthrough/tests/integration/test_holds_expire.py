"""A held line whose partner never comes is refused once the grace period runs out."""

from __future__ import annotations

import uuid

import pytest
from channelstream_common import testing
from channelstream_common.topics import DEAD_LETTERS, SELL_THROUGH_REJECTED

pytestmark = pytest.mark.integration

REPORT_HEADER = (
    "report_id,line_no,distributor_id,reseller_id,sku,quantity,unit_price,currency,sold_on,"
    "end_customer_name,end_customer_country,deal_id"
)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


async def test_a_line_held_past_the_grace_period_is_refused_for_its_unknown_partner(
    launch, onboarding, topics
):
    sellthrough = await launch(hold_grace_seconds="1")
    d = await onboarding.enrol(new_id("D"), "DISTRIBUTOR")
    await testing.eventually(lambda: sellthrough.knows(d))
    rpt, never, shipment_id = new_id("RPT"), new_id("R"), new_id("S")
    body = f"{REPORT_HEADER}\n{rpt},1,{d},{never},FW-2200,2,3450,USD,2025-10-01,,,\n"
    held = await sellthrough.upload("/reports", body)
    assert held["held"] == 1
    shipments = (
        "shipment_id,distributor_id,sku,quantity,unit_cost,currency,shipped_on\n"
        f"{shipment_id},{new_id('D')},FW-2200,3,2800,USD,2025-09-01\n"
    )
    shipped = await sellthrough.upload("/shipments", shipments)
    assert shipped["held"] == 1

    async def refused() -> dict | None:
        # the shipment was held after the report line: one sweep may refuse only the line
        report = await sellthrough.get(f"/reports/{rpt}")
        shipment = await sellthrough.get(f"/shipments/{shipment_id}")
        return report if report["rejected"] == 1 and shipment["status"] == "rejected" else None

    report = await testing.eventually(refused, within=30)
    assert report["lines"] == [{"line_no": 1, "status": "rejected", "reason": "UNKNOWN_RESELLER"}]
    status = await sellthrough.get(f"/uploads/{held['upload_id']}")
    assert (status["lines"], status["held"], status["rejected"]) == (
        1,
        0,
        {"UNKNOWN_RESELLER": 1},
    )
    await sellthrough.published()
    [event] = await topics.of(SELL_THROUGH_REJECTED, held["upload_id"])
    assert (event["reason"], event["line_no"]) == ("UNKNOWN_RESELLER", 1)
    assert "grace period" in event["detail"]

    shipment = await sellthrough.get(f"/shipments/{shipment_id}")
    assert (shipment["status"], shipment["reason"]) == ("rejected", "UNKNOWN_DISTRIBUTOR")
    [dead] = [
        r
        for r in await topics.records(DEAD_LETTERS["sellthrough"])
        if r.key == shipment_id.encode()
    ]
    assert dict(dead.headers)["dlq_reason"].decode().startswith("UNKNOWN_DISTRIBUTOR")
    assert dead.value.decode().startswith(shipment_id)

    # the partner arriving late changes nothing: the line was refused and must be resent
    await onboarding.enrol(never, "RESELLER")
    await testing.eventually(lambda: sellthrough.knows(never))
    assert (await sellthrough.get(f"/reports/{rpt}"))["rejected"] == 1
