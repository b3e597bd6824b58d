"""Report and shipment files over HTTP, direct Kafka intake, holds: decisions and their events."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from channelstream_common import testing
from channelstream_common.events import derived_id, new_metadata
from channelstream_common.topics import (
    DEAD_LETTERS,
    SELL_IN_RECORDED,
    SELL_IN_SUBMITTED,
    SELL_THROUGH_REJECTED,
    SELL_THROUGH_REPORTED,
    SELL_THROUGH_SUBMITTED,
)

pytestmark = pytest.mark.integration

REPORT_HEADER = (
    "report_id,line_no,distributor_id,reseller_id,sku,quantity,unit_price,currency,sold_on,"
    "end_customer_name,end_customer_country,deal_id"
)
SHIPMENT_HEADER = "shipment_id,distributor_id,sku,quantity,unit_cost,currency,shipped_on"


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


def csv(header: str, *lines: str) -> str:
    return "\n".join([header, *lines]) + "\n"


async def test_a_file_mixing_every_reason_gets_exact_counts_and_events(
    sellthrough, onboarding, topics
):
    d, r, r2 = new_id("D"), new_id("R"), new_id("R")
    await onboarding.enrol(d, "DISTRIBUTOR")
    await onboarding.enrol(r, "RESELLER", datetime(2025, 3, 1).date())
    await onboarding.enrol(r2, "RESELLER")
    await testing.eventually(lambda: sellthrough.knows(d, r, r2))
    rpt = new_id("RPT")
    future = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    ok = f"{rpt},1,{d},{r},FW-1100,5,1295.00,USD,2025-06-01,Acme Corp,US,"
    body = csv(
        REPORT_HEADER,
        ok,
        f"{rpt},2,{d},{r2},SW-24P,-1,1890,USD,2025-06-02,,,",
        ok,  # sent twice: a no-op
        ok.replace(",5,", ",6,"),  # same report line, other content
        f"{rpt},5,{d},{r}",
        f"{rpt},6,{d},{r},FW-1100,5,1295.00,USD,2025-13-01,,,",
        f"{rpt},7,acme distribution,{r},FW-1100,5,1295.00,USD,2025-06-01,,,",
        f"{rpt},8,{r},{r2},FW-1100,5,1295.00,USD,2025-06-01,,,",
        f"{rpt},9,{d},who?,FW-1100,5,1295.00,USD,2025-06-01,,,",
        f"{rpt},10,{d},{r},NOPE-9,5,1295.00,USD,2025-06-01,,,",
        f"{rpt},11,{d},{r},FW-1100,0,1295.00,USD,2025-06-01,,,",
        f"{rpt},12,{d},{r},FW-1100,5,-5,USD,2025-06-01,,,",
        f"{rpt},13,{d},{r},FW-1100,5,1295.00,GBP,2025-06-01,,,",
        f"{rpt},14,{d},{r},FW-1100,5,1295.00,USD,{future},,,",
        f"{rpt},15,{d},{r},FW-1100,5,1295.00,USD,2025-02-01,,,",
        f"{rpt},16,{d},{new_id('R')},FW-1100,5,1295.00,USD,2025-06-01,,,",
        "",
    )
    result = await sellthrough.upload("/reports", body, **{"X-Submitted-By": "jane@dist"})

    refused = {
        "CONFLICTING_RESUBMISSION": 1,
        "FUTURE_DATE": 1,
        "INVALID_PRICE": 1,
        "INVALID_QUANTITY": 1,
        "MALFORMED_ROW": 2,
        "NOT_A_DISTRIBUTOR": 1,
        "SOLD_BEFORE_ENROLLMENT": 1,
        "UNKNOWN_DISTRIBUTOR": 1,
        "UNKNOWN_RESELLER": 1,
        "UNKNOWN_SKU": 1,
        "UNSUPPORTED_CURRENCY": 1,
    }
    upload_id = result.pop("upload_id")
    assert result == {"lines": 16, "accepted": 2, "duplicates": 1, "held": 1, "rejected": refused}
    status = await sellthrough.get(f"/uploads/{upload_id}")
    assert status == {
        "upload_id": upload_id,
        "kind": "sale",
        "ingestion_path": "HTTP",
        "submitted_by": "jane@dist",
        "state": "complete",
        "lines": 16,
        "accepted": 2,
        "duplicates": 1,
        "held": 1,
        "rejected": refused,
    }

    await sellthrough.published()
    reported = await topics.of(SELL_THROUGH_REPORTED, upload_id)
    rejected = await topics.of(SELL_THROUGH_REJECTED, upload_id)
    assert sorted(e["line_no"] for e in reported) == [1, 2]
    first = next(e for e in reported if e["line_no"] == 1)
    assert first["metadata"]["event_id"] == derived_id("SellThroughReported", rpt, 1)
    assert first["metadata"]["causation_id"] is None
    assert (first["quantity"], str(first["unit_price"]), first["product_line"]) == (
        5,
        "1295.0000",
        "Firewalls",
    )
    assert (first["ingestion_path"], first["submitted_by"], first["raw_line"]) == (
        "HTTP",
        "jane@dist",
        ok,
    )
    assert Counter(e["reason"] for e in rejected) == refused
    short = next(e for e in rejected if e["raw_line"] == f"{rpt},5,{d},{r}")
    assert (short["reason"], short["report_id"], short["line_no"]) == ("MALFORMED_ROW", None, None)
    bad_date = next(e for e in rejected if e["line_no"] == 6)
    assert (bad_date["report_id"], bad_date["distributor_id"]) == (rpt, d)

    report = await sellthrough.get(f"/reports/{rpt}")
    assert (report["accepted"], report["held"], report["rejected"]) == (2, 1, 10)
    assert report["reasons"] == {
        k: 1 for k in refused if k != "CONFLICTING_RESUBMISSION"
    }  # the conflicting line 1 stays accepted; the short line 5 has no readable key
    assert {x["line_no"]: (x["status"], x["reason"]) for x in report["lines"]} == {
        1: ("accepted", None),
        2: ("accepted", None),
        6: ("rejected", "MALFORMED_ROW"),
        7: ("rejected", "UNKNOWN_DISTRIBUTOR"),
        8: ("rejected", "NOT_A_DISTRIBUTOR"),
        9: ("rejected", "UNKNOWN_RESELLER"),
        10: ("rejected", "UNKNOWN_SKU"),
        11: ("rejected", "INVALID_QUANTITY"),
        12: ("rejected", "INVALID_PRICE"),
        13: ("rejected", "UNSUPPORTED_CURRENCY"),
        14: ("rejected", "FUTURE_DATE"),
        15: ("rejected", "SOLD_BEFORE_ENROLLMENT"),
        16: ("held", "UNKNOWN_RESELLER"),
    }


async def test_resending_a_file_is_a_no_op(sellthrough, onboarding, topics):
    d, r = await onboarding.enrol(new_id("D"), "DISTRIBUTOR"), await onboarding.enrol(new_id("R"))
    await testing.eventually(lambda: sellthrough.knows(d, r))
    rpt = new_id("RPT")
    body = csv(
        REPORT_HEADER,
        *(f"{rpt},{n},{d},{r},AP-210,{n},429,USD,2025-07-0{n},,," for n in (1, 2, 3)),
    )
    first = await sellthrough.upload("/reports", body)
    assert (first["accepted"], first["duplicates"]) == (3, 0)
    await sellthrough.published()

    again = await sellthrough.upload("/reports", body.replace(",429,", ",429.0000,"))

    assert {k: v for k, v in again.items() if k != "upload_id"} == {
        "lines": 3,
        "accepted": 0,
        "duplicates": 3,
        "held": 0,
        "rejected": {},
    }
    await sellthrough.published()
    assert await topics.of(SELL_THROUGH_REPORTED, again["upload_id"]) == []
    reported = [e for e in await topics.read(SELL_THROUGH_REPORTED) if e["report_id"] == rpt]
    assert sorted(e["line_no"] for e in reported) == [1, 2, 3]


async def test_lines_published_by_an_integration_are_validated(
    sellthrough, onboarding, integration, topics
):
    d, r = await onboarding.enrol(new_id("D"), "DISTRIBUTOR"), await onboarding.enrol(new_id("R"))
    await testing.eventually(lambda: sellthrough.knows(d, r))
    batch, rpt = str(uuid.uuid4()), new_id("EDI")

    def line(line_no: int, quantity: str) -> dict:
        return {
            "metadata": new_metadata("acme-edi", correlation_id=batch),
            "report_id": rpt,
            "line_no": line_no,
            "distributor_id": d,
            "reseller_id": r,
            "sku": "SUB-TP-1Y",
            "quantity": quantity,
            "unit_price": "420",
            "currency": "USD",
            "sold_on": "2025-08-01",
            "submitted_by": "acme-edi",
            "ingestion_path": "KAFKA",
        }

    sent = [line(1, "3"), line(2, "three"), line(1, "3")]
    await integration.publish_many((SELL_THROUGH_SUBMITTED, v) for v in sent)
    shipment = {
        "metadata": new_metadata("acme-edi", correlation_id=batch),
        "shipment_id": new_id("S"),
        "distributor_id": d,
        "sku": "SUB-TP-1Y",
        "quantity": "10",
        "unit_cost": "300",
        "currency": "USD",
        "shipped_on": "2025-07-01",
        "submitted_by": "acme-edi",
        "ingestion_path": "KAFKA",
    }
    bad_shipment = {**shipment, "metadata": new_metadata("acme-edi", correlation_id=batch)}
    bad_shipment.update(shipment_id=new_id("S"), sku="NOT-SOLD-HERE")
    await integration.publish_many(
        [(SELL_IN_SUBMITTED, shipment), (SELL_IN_SUBMITTED, bad_shipment)]
    )
    await integration.send_raw(SELL_THROUGH_SUBMITTED, b"not avro at all", rpt.encode(), [])

    async def settled() -> dict | None:
        found = (await sellthrough.http.get(f"/uploads/{batch}")).json()
        return found if found.get("lines") == 5 else None

    status = await testing.eventually(settled, within=60)
    assert (status["ingestion_path"], status["submitted_by"], status["accepted"]) == (
        "KAFKA",
        "acme-edi",
        2,
    )
    assert (status["duplicates"], status["rejected"]) == (1, {"MALFORMED_ROW": 1, "UNKNOWN_SKU": 1})
    await sellthrough.published()
    [reported] = await topics.of(SELL_THROUGH_REPORTED, batch)
    [rejected] = await topics.of(SELL_THROUGH_REJECTED, batch)
    [recorded] = await topics.of(SELL_IN_RECORDED, batch)
    assert reported["metadata"]["causation_id"] == sent[0]["metadata"]["event_id"]
    assert (reported["upload_id"], reported["ingestion_path"]) == (batch, "KAFKA")
    assert rejected["metadata"]["causation_id"] == sent[1]["metadata"]["event_id"]
    assert (rejected["line_no"], rejected["reason"]) == (2, "MALFORMED_ROW")
    assert recorded["metadata"]["causation_id"] == shipment["metadata"]["event_id"]
    assert (recorded["quantity"], str(recorded["unit_cost"])) == (10, "300.0000")

    async def dead_letters() -> list | None:
        found = [
            dict(r.headers)
            for r in await topics.records(DEAD_LETTERS["sellthrough"])
            if r.key in (bad_shipment["shipment_id"].encode(), rpt.encode())
        ]
        return found if len(found) == 2 else None

    reasons = sorted(h["dlq_reason"].decode() for h in await testing.eventually(dead_letters))
    assert reasons[0].startswith("DECODE_ERROR")
    assert reasons[1].startswith("UNKNOWN_SKU: sku 'NOT-SOLD-HERE' is not in the product catalog")


async def test_a_line_for_a_partner_not_yet_enrolled_is_held_until_it_is(
    sellthrough, onboarding, topics
):
    d, late, late_d = new_id("D"), new_id("R"), new_id("D")
    await onboarding.enrol(d, "DISTRIBUTOR")
    await testing.eventually(lambda: sellthrough.knows(d))
    rpt, shipment_id = new_id("RPT"), new_id("S")
    sale = await sellthrough.upload(
        "/reports",
        csv(REPORT_HEADER, f"{rpt},1,{d},{late},WLC-500,1,7900,USD,2025-09-01,,,"),
    )
    ship = await sellthrough.upload(
        "/shipments",
        csv(SHIPMENT_HEADER, f"{shipment_id},{late_d},WLC-500,4,6000,USD,2025-08-01"),
    )
    assert (sale["held"], ship["held"]) == (1, 1)
    assert (await sellthrough.get(f"/reports/{rpt}"))["lines"] == [
        {"line_no": 1, "status": "held", "reason": "UNKNOWN_RESELLER"}
    ]

    await onboarding.enrol(late, "RESELLER")
    await onboarding.enrol(late_d, "DISTRIBUTOR")

    async def accepted() -> bool:
        report = await sellthrough.get(f"/reports/{rpt}")
        shipped = await sellthrough.get(f"/shipments/{shipment_id}")
        return report["accepted"] == 1 and shipped["status"] == "accepted"

    await testing.eventually(accepted, within=60)
    status = await sellthrough.get(f"/uploads/{sale['upload_id']}")
    assert (status["lines"], status["held"], status["accepted"]) == (1, 0, 1)
    await sellthrough.published()
    [event] = await topics.of(SELL_THROUGH_REPORTED, sale["upload_id"])
    assert (event["reseller_id"], event["metadata"]["causation_id"]) == (late, None)
    [recorded] = await topics.of(SELL_IN_RECORDED, ship["upload_id"])
    assert recorded["distributor_id"] == late_d


async def test_the_inventory_view_on_a_worked_example(sellthrough, onboarding):
    d, other, r = new_id("D"), new_id("D"), new_id("R")
    for pid, kind in ((d, "DISTRIBUTOR"), (other, "DISTRIBUTOR"), (r, "RESELLER")):
        await onboarding.enrol(pid, kind)
    await testing.eventually(lambda: sellthrough.knows(d, other, r))
    s = new_id("S")
    shipments = "".join(
        f'{{"shipment_id": "{s}-{n}", "distributor_id": "{dist}", "sku": "{sku}",'
        f' "quantity": {qty}, "unit_cost": "100", "currency": "USD", "shipped_on": "{day}"}}\n'
        for n, (dist, sku, qty, day) in enumerate(
            [
                (d, "FW-1100", 100, "2025-01-10"),
                (d, "FW-1100", 50, "2025-04-01"),
                (d, "SW-24P", 40, "2025-02-01"),
                (d, "AP-210", 20, "2025-01-05"),
                (other, "FW-1100", 7, "2025-01-05"),
            ]
        )
    )
    shipped = await sellthrough.upload("/shipments", shipments, "application/x-ndjson")
    assert shipped["accepted"] == 5
    rpt = new_id("RPT")
    sales = [
        # distributor d's latest sale is 2025-06-30: its window is 2025-04-01..2025-06-30
        (d, "FW-1100", 40, "2025-03-01"),  # before the window
        (d, "FW-1100", 13, "2025-04-01"),  # first day of the window
        (d, "FW-1100", 20, "2025-05-15"),
        (d, "FW-1100", -3, "2025-06-10"),  # a return
        (d, "FW-1100", 9, "2025-06-30"),
        (d, "SW-24P", 5, "2025-03-31"),  # the day before the window
        (d, "SW-24P", 26, "2025-06-01"),
        (other, "FW-1100", 1, "2025-12-01"),  # another distributor: not d's as_of
    ]
    lines = [
        f"{rpt},{n},{dist},{r},{sku},{qty},10,USD,{day},,,"
        for n, (dist, sku, qty, day) in enumerate(sales, start=1)
    ]
    sold = await sellthrough.upload("/reports", csv(REPORT_HEADER, *lines))
    assert sold["accepted"] == 8

    # FW-1100: in 150, sold 40+13+20-3+9 = 79, on hand 71; window 13+20-3+9 = 39 -> 3.00/week
    #          -> 71/3 = 23.67 weeks (loading: > 12)
    # SW-24P:  in 40, sold 31, on hand 9; window 26 -> 2.00/week -> 4.50 weeks
    # AP-210:  in 20, nothing sold: no weeks of supply, loading (stock that does not sell)
    expected = [
        {
            "distributor_id": d,
            "sku": "AP-210",
            "sell_in_units": 20,
            "sell_through_units": 0,
            "on_hand": 20,
            "as_of": "2025-06-30",
            "avg_weekly_units": "0.00",
            "weeks_of_supply": None,
            "loading_flag": True,
        },
        {
            "distributor_id": d,
            "sku": "FW-1100",
            "sell_in_units": 150,
            "sell_through_units": 79,
            "on_hand": 71,
            "as_of": "2025-06-30",
            "avg_weekly_units": "3.00",
            "weeks_of_supply": "23.67",
            "loading_flag": True,
        },
        {
            "distributor_id": d,
            "sku": "SW-24P",
            "sell_in_units": 40,
            "sell_through_units": 31,
            "on_hand": 9,
            "as_of": "2025-06-30",
            "avg_weekly_units": "2.00",
            "weeks_of_supply": "4.50",
            "loading_flag": False,
        },
    ]

    async def projected() -> list | None:
        rows = (await sellthrough.get("/inventory", distributor_id=d))["rows"]
        theirs = (await sellthrough.get("/inventory", distributor_id=other))["rows"]
        # keyed by distributor: d's rows being complete says nothing of other's partition
        return rows if rows == expected and theirs and theirs[0]["on_hand"] == 6 else None

    await testing.eventually(projected, within=60)
    as_csv = await sellthrough.http.get("/inventory", params={"distributor_id": d, "format": "csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.text.splitlines() == [
        "distributor_id,sku,sell_in_units,sell_through_units,on_hand,as_of,avg_weekly_units,"
        "weeks_of_supply,loading_flag",
        f"{d},AP-210,20,0,20,2025-06-30,0.00,,true",
        f"{d},FW-1100,150,79,71,2025-06-30,3.00,23.67,true",
        f"{d},SW-24P,40,31,9,2025-06-30,2.00,4.50,false",
    ]
    by_accept = await sellthrough.http.get(
        "/inventory", params={"distributor_id": other}, headers={"Accept": "text/csv"}
    )
    # the other distributor: 1 unit in its window (ending 2025-12-01) -> 1/13 = 0.08 a week
    assert by_accept.text.splitlines()[1] == f"{other},FW-1100,7,1,6,2025-12-01,0.08,78.00,true"
