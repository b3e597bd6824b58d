"""Program configuration: the bundled default program and what a program file may express."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from incentives.adapters.program_files import BUNDLED, load_programs
from incentives.domain.model import Rule
from incentives.domain.programs import ProgramError, check_catalogue, parse_program

TIERED = """
id: partner-growth
version: 3
currency: USD
valid_from: 2026-Q3
valid_to: 2027-Q2
distributor_volume_rebate:
  rates_by_tier:
    GOLD: [{from: 0, rate: "0.015"}, {from: 50000, rate: "0.025"}]
    PLATINUM: [{from: 0, rate: "0.02"}]
  product_lines: [SERVERS, STORAGE]
deal_registration_bonus:
  rate: "0.01"
  rate_by_tier: {PLATINUM: "0.04"}
  product_lines: [SERVERS]
"""


def _doc(**overrides: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "id": "p-one",
        "version": 1,
        "currency": "USD",
        "distributor_volume_rebate": {"rates": [{"from": 0, "rate": "0.01"}]},
    }
    return {**doc, **overrides}


def test_bundled_default_program_is_exactly_the_issue_program():
    (program,) = load_programs(BUNDLED)
    assert (program.program_id, program.version, program.currency) == ("channel-rebates", 1, "USD")
    assert program.valid_from is None and program.valid_to is None
    assert program.rules == (Rule.DISTRIBUTOR_VOLUME, Rule.DEAL_REG_BONUS)
    assert program.volume is not None and program.volume.default is not None
    assert program.volume.default.brackets == (
        (Decimal(0), Decimal("0.01")),
        (Decimal(100000), Decimal("0.02")),
        (Decimal(500000), Decimal("0.03")),
    )
    assert program.volume.by_tier == {} and program.volume.product_lines is None
    assert program.bonus is not None and program.bonus.default == Decimal("0.02")
    assert program.bonus.by_tier == {} and program.bonus.product_lines is None


def test_rate_brackets_are_inclusive_lower_bounds_and_negative_revenue_uses_the_first():
    (program,) = load_programs(BUNDLED)
    assert program.volume and program.volume.default
    rate = program.volume.default.rate
    assert rate(Decimal("-5000")) == Decimal("0.01")
    assert rate(Decimal("99999.9999")) == Decimal("0.01")
    assert rate(Decimal("100000")) == Decimal("0.02")
    assert rate(Decimal("499999.9999")) == Decimal("0.02")
    assert rate(Decimal("500000")) == Decimal("0.03")


def test_tier_tables_and_product_lines_are_expressible(tmp_path: Path):
    (tmp_path / "growth.yaml").write_text(TIERED)
    (program,) = load_programs(tmp_path)
    assert (program.valid_from, program.valid_to) == ("2026-Q3", "2027-Q2")
    assert program.covers("2026-Q3") and program.covers("2027-Q2")
    assert not program.covers("2026-Q2") and not program.covers("2027-Q3")
    volume, bonus = program.volume, program.bonus
    assert volume is not None and bonus is not None
    assert volume.needs_partner and bonus.needs_partner
    assert volume.table_for("SILVER") is None
    gold = volume.table_for("GOLD")
    assert gold is not None and gold.rate(Decimal(50000)) == Decimal("0.025")
    assert volume.product_lines == frozenset({"SERVERS", "STORAGE"})
    assert bonus.rate_for("PLATINUM") == Decimal("0.04")
    assert bonus.rate_for("SILVER") == Decimal("0.01")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"currency": "usd"}, "currency: an ISO 4217 code"),
        ({"version": 0}, "version: a positive integer"),
        ({"id": "Bad Id"}, "id: lowercase"),
        ({"rebate": 1}, "unknown key(s) rebate"),
        ({"period": "month"}, "only calendar-quarter"),
        ({"valid_from": "2026-Q5"}, "expected a quarter"),
        ({"valid_from": "2027-Q1", "valid_to": "2026-Q4"}, "valid_from is after valid_to"),
        ({"distributor_volume_rebate": None}, "defines no rule"),
        (
            {"distributor_volume_rebate": {"rates": [{"from": 10, "rate": "0.01"}]}},
            "first bracket must start from 0",
        ),
        (
            {
                "distributor_volume_rebate": {
                    "rates": [{"from": 0, "rate": "0.01"}, {"from": 0, "rate": "0.02"}]
                }
            },
            "strictly increase",
        ),
        (
            {"distributor_volume_rebate": {"rates": [{"from": 0, "rate": "0.0000001"}]}},
            "at most 6 decimal places",
        ),
        ({"distributor_volume_rebate": {"rates": [{"from": 0, "rate": 1.5}]}}, "in [0, 1)"),
        ({"distributor_volume_rebate": {"retroactive": False, "rates": []}}, "only retroactive"),
        (
            {"distributor_volume_rebate": {"rates_by_tier": {"DIAMOND": []}}},
            "unknown tier(s) DIAMOND",
        ),
        ({"deal_registration_bonus": {"rate": "abc"}}, "expected a number"),
        ({"deal_registration_bonus": {"product_lines": []}}, "needs rate or rate_by_tier"),
    ],
)
def test_invalid_program_documents_are_refused_with_the_reason(overrides, message):
    with pytest.raises(ProgramError) as err:
        parse_program(_doc(**overrides), source="p.yaml")
    assert message in str(err.value)
    assert str(err.value).startswith("p.yaml")


def test_versions_of_one_program_must_not_overlap_in_time():
    v1 = parse_program(_doc(valid_to="2026-Q4"))
    v2 = parse_program(_doc(version=2, valid_from="2027-Q1"))
    assert check_catalogue([v2, v1]) == (v1, v2)
    v3 = parse_program(_doc(version=3, valid_from="2026-Q4"))
    with pytest.raises(ProgramError, match="versions 1 and 3 cover overlapping periods"):
        check_catalogue([v1, v3])
    with pytest.raises(ProgramError, match="defined twice"):
        check_catalogue([v1, parse_program(_doc(valid_to="2026-Q4"))])


def test_a_directory_without_program_files_or_with_broken_yaml_is_refused(tmp_path: Path):
    with pytest.raises(ProgramError, match="no program files"):
        load_programs(tmp_path)
    (tmp_path / "broken.yaml").write_text("id: [unclosed\n")
    with pytest.raises(ProgramError, match=r"broken\.yaml: not valid YAML"):
        load_programs(tmp_path)
    with pytest.raises(ProgramError, match="does not exist"):
        load_programs(tmp_path / "missing")


def test_the_service_refuses_to_start_on_a_bad_program_before_touching_anything(tmp_path: Path):
    from channelstream_common.settings import ConfigError, Settings
    from incentives.bootstrap import bootstrap

    (tmp_path / "p.yaml").write_text("id: p-one\nversion: 1\ncurrency: USD\n")
    settings = Settings(
        service="incentives",
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none",
        extra={"programs_dir": str(tmp_path)},
    )
    with pytest.raises(ConfigError, match=r"^rebate programs: .*p\.yaml: defines no rule"):
        bootstrap(settings)
