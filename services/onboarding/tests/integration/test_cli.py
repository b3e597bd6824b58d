"""`channelstream enrol` against a running onboarding service."""

from __future__ import annotations

import asyncio
import re

import pytest
from channelstream_cli.main import app
from typer.testing import CliRunner, Result

pytestmark = pytest.mark.integration
HEADER = (
    "partner_id,legal_name,partner_type,tier,parent_distributor_id,territories,"
    "exclusive_territories,enrolled_on,contact_email"
)


def table_rows(output: str) -> dict[str, list[str]]:
    """Cells of each table line, keyed by the first cell."""
    rows = {}
    for line in output.splitlines():
        cells = [c.strip() for c in re.split(r"[│┃|]", line) if c.strip()]
        if cells:
            rows[cells[0]] = cells[1:]
    return rows


async def test_enrol_commands_upload_csv_enrol_one_and_look_partners_up(
    onboarding_service, eventually, tag, tmp_path
):
    d, r1, r2, r3 = f"CD-{tag}", f"CR1-{tag}", f"CR2-{tag}", f"CR3-{tag}"
    data = tmp_path / "partners.csv"
    data.write_text(
        f"{HEADER}\n"
        f"{d},Cli Distribution,DISTRIBUTOR,GOLD,,SE;NO,SE,2026-01-02,ops@cd.example\n"
        f"BAD-{tag},Orphan,RESELLER,SILVER,NONE-{tag},SE,,2026-01-03,o@bad.example\n"
        "\n"
        f"{r1},Cli Reseller One,VAR,SILVER,{d},SE,,2026-01-03,one@cr.example\n"
        f"{r2},Cli Reseller Two,MSP,GOLD,{d},NO,,2026-01-04,two@cr.example\n"
    )
    runner = CliRunner()
    async with onboarding_service() as (_, http):
        env = {"CHANNELSTREAM_ONBOARDING_URL": str(http.base_url), "COLUMNS": "250"}

        async def run(*args: str) -> Result:
            return await asyncio.to_thread(runner.invoke, app, list(args), env=env)

        uploaded = await run("enrol", "csv", str(data), "--chunk-rows", "2")
        assert uploaded.exit_code == 1
        rows = table_rows(uploaded.stdout)
        assert rows["2"][:2] == [d, "enrolled"]
        assert rows["3"] == [
            f"BAD-{tag}",
            "rejected",
            "UNKNOWN_PARENT",
            f"parent NONE-{tag} is not an enrolled partner",
        ]
        assert rows["5"][:2] == [r1, "enrolled"]  # parent enrolled by the previous request
        assert rows["6"][:2] == [r2, "enrolled"]
        assert "3 enrolled, 0 unchanged, 1 rejected" in uploaded.stdout

        again = await run("enrol", "csv", str(data), "--only-rejected")
        assert again.exit_code == 1
        assert set(table_rows(again.stdout)) >= {"3"}
        assert d not in again.stdout
        assert "0 enrolled, 3 unchanged, 1 rejected" in again.stdout

        one = [
            "enrol", "partner", "--partner-id", r3, "--legal-name", "Cli Reseller Three",
            "--type", "reseller", "--tier", "SILVER", "--parent", d, "-t", "SE,no",
            "--enrolled-on", "2026-02-01", "--email", "three@cr.example",
        ]  # fmt: skip
        enrolled = await run(*one)
        assert enrolled.exit_code == 0, enrolled.output
        assert f"{r3}: enrolled" in enrolled.stdout
        assert table_rows(enrolled.stdout)["territories"] == ["NO, SE"]
        unchanged = await run(*one)
        assert (unchanged.exit_code, f"{r3}: unchanged" in unchanged.stdout) == (0, True)
        refused = await run(*one[:-1], "other@cr.example")
        assert refused.exit_code == 1
        assert refused.stderr.strip() == (
            f"error: PARTNER_EXISTS: {r3} is already enrolled with different contact_email"
        )

        async def all_listed() -> bool:
            r = await http.get("/partners", params={"parent_distributor_id": d})
            return r.json()["total"] == 3

        await eventually(all_listed)
        listed = await run("enrol", "list", "--parent", d)
        assert listed.exit_code == 0
        rows = table_rows(listed.stdout)
        assert [rows[p][1] for p in (r1, r2, r3)] == ["VAR", "MSP", "RESELLER"]
        assert "3 shown of 3" in listed.stdout

        shown = await run("enrol", "show", r2)
        assert shown.exit_code == 0
        fields = table_rows(shown.stdout)
        assert (fields["parent_distributor_id"], fields["tier"]) == ([d], ["GOLD"])

        missing = await run("enrol", "show", f"NOPE-{tag}")
        assert missing.exit_code == 1
        assert missing.stderr.startswith("error: PARTNER_NOT_FOUND")

        bad = tmp_path / "bad.csv"
        bad.write_text("id,name\nX,Y\n")
        refused_file = await run("enrol", "csv", str(bad))
        assert refused_file.exit_code == 1
        assert refused_file.stderr.startswith("error: BAD_HEADER: expected header: partner_id,")
