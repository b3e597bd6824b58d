"""The `channelstream` commands against a running sellthrough."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest
from channelstream_cli.main import app
from channelstream_common import testing
from channelstream_common.topics import SELL_THROUGH_REPORTED
from typer.testing import CliRunner

pytestmark = pytest.mark.integration


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


def words(output: str) -> str:
    """The output without table borders, whitespace collapsed."""
    return " ".join(re.sub(r"[\u2500-\u257f]", " ", output).split())


async def cli(url: str, *args: str):
    """Run a command in a thread, so the service keeps serving in this event loop."""
    runner = CliRunner()
    env = {"CHANNELSTREAM_SELLTHROUGH_URL": url, "COLUMNS": "200"}
    return await asyncio.to_thread(runner.invoke, app, list(args), env=env)


async def test_upload_a_report_file_and_query_status_and_inventory(
    sellthrough, onboarding, topics, tmp_path
):
    d, r = await onboarding.enrol(new_id("D"), "DISTRIBUTOR"), await onboarding.enrol(new_id("R"))
    await testing.eventually(lambda: sellthrough.knows(d, r))
    rpt = new_id("RPT")
    report = tmp_path / "report.jsonl"
    report.write_text(
        "".join(
            f'{{"report_id": "{rpt}", "line_no": {n}, "distributor_id": "{d}",'
            f' "reseller_id": "{r}", "sku": "AP-420", "quantity": {q}, "unit_price": 899,'
            f' "currency": "USD", "sold_on": "2025-11-0{n}"}}\n'
            for n, q in ((1, 4), (2, 0), (3, 2))
        )
    )
    shipments = tmp_path / "shipments.csv"
    shipments.write_text(
        "shipment_id,distributor_id,sku,quantity,unit_cost,currency,shipped_on\n"
        f"{new_id('S')},{d},AP-420,30,700,USD,2025-10-01\n"
    )

    uploaded = await cli(sellthrough.url, "upload", "report", str(report), "--submitted-by", "bob")
    shipped = await cli(sellthrough.url, "upload", "shipments", str(shipments))

    assert uploaded.exit_code == 0, uploaded.output
    out = words(uploaded.output)
    for expected in ("lines 3", "accepted 2", "duplicate (no-op) 0", "INVALID_QUANTITY 1"):
        assert expected in out
    assert shipped.exit_code == 0 and "accepted 1" in words(shipped.output)
    await sellthrough.published()
    events = [e for e in await topics.read(SELL_THROUGH_REPORTED) if e["report_id"] == rpt]
    assert {(e["ingestion_path"], e["submitted_by"]) for e in events} == {("CLI", "bob")}

    status = await cli(sellthrough.url, "upload", "report-status", rpt)
    assert status.exit_code == 0
    assert "rejected 1 INVALID_QUANTITY 1" in words(status.output)
    assert "2 rejected INVALID_QUANTITY" in words(status.output)

    async def inventory() -> str | None:
        result = await cli(sellthrough.url, "views", "inventory", "--distributor", d, "--csv")
        return result.output if f"{d},AP-420,30,6,24" in result.output else None

    csv = await testing.eventually(inventory, within=30)
    # 6 units in the window -> 6/13 = 0.46 a week; 24 on hand / (6/13) = 52.00 weeks
    assert csv.splitlines()[1] == f"{d},AP-420,30,6,24,2025-11-03,0.46,52.00,true"


async def test_a_refused_file_exits_2_and_an_unreachable_service_exits_1(sellthrough, tmp_path):
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("report,line\nR,1\n")
    refused = await cli(sellthrough.url, "upload", "report", str(wrong))
    assert refused.exit_code == 2
    assert "error: BAD_HEADER" in refused.output

    gone = f"http://127.0.0.1:{testing.free_port()}"
    unreachable = await cli(gone, "upload", "report", str(wrong))
    assert unreachable.exit_code == 1
    assert "error: sellthrough is not reachable" in unreachable.output
