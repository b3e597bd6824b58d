"""`channelstream deals register|show|list` against a running dealreg."""

from __future__ import annotations

import asyncio
import json

import pytest
from channelstream_cli.main import app
from typer.testing import CliRunner

pytestmark = pytest.mark.integration


async def test_cli_registers_a_file_then_shows_and_lists_the_decisions(
    dealreg, onboarding, deal, tmp_path, monkeypatch
):
    monkeypatch.setenv("CHANNELSTREAM_DEALREG_URL", dealreg.url)
    runner = CliRunner()

    async def cli(*args: str):
        return await asyncio.to_thread(runner.invoke, app, ["deals", *args])

    partner = await onboarding.enrol_known(dealreg)
    rival = await onboarding.enrol_known(dealreg)
    customer = {"name": "Soylent Corp", "country": "NL"}
    first, second = deal(partner, customer=customer), deal(rival, customer=customer)
    path = tmp_path / "deals.json"
    path.write_text(json.dumps([first, second, {"deal_id": "D-BROKEN"}]))

    result = await cli("register", str(path), "--json")
    assert result.exit_code == 1
    decisions = json.loads(result.stdout)
    assert [(d["status"], d.get("reason")) for d in decisions] == [
        ("APPROVED", None),
        ("REJECTED", "CONFLICT"),
        ("REJECTED", "INVALID_REQUEST"),
    ]
    assert decisions[1]["conflicting_deal_id"] == first["deal_id"]
    assert "error: 2 of 3 deal registrations not approved" in result.stderr

    single = tmp_path / "one.json"
    single.write_text(json.dumps(deal(partner)))
    table = await cli("register", str(single))
    assert table.exit_code == 0, table.output
    assert "APPROVED" in table.stdout and "protected until 2027-01-30" in table.stdout

    shown = await cli("show", first["deal_id"])
    assert shown.exit_code == 0
    assert "Soylent Corp (NL)" in shown.stdout and "2027-01-30" in shown.stdout

    listed = await cli("list", "--customer", "SOYLENT corp.", "--json")
    assert listed.exit_code == 0
    assert {d["deal_id"] for d in json.loads(listed.stdout)} == {
        first["deal_id"],
        second["deal_id"],
    }

    missing = await cli("show", "D-NOPE")
    assert missing.exit_code == 1
    assert missing.stderr.strip() == "error: deal D-NOPE not found"
    unreadable = await cli("register", str(tmp_path / "absent.json"))
    assert unreadable.exit_code == 1 and unreadable.stderr.startswith("error: cannot read")
