"""The retroactive distributor volume rebate: entitlement, BASE / TIER_TRUE_UP split, rounding."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from incentives.adapters.program_files import BUNDLED, load_programs
from incentives.domain.model import Reason
from incentives.domain.rules import entitlement, volume_split

(PROGRAM,) = load_programs(BUNDLED)
assert PROGRAM.volume and PROGRAM.volume.default
TABLE = PROGRAM.volume.default
D = Decimal


def split(before: str, revenue: str) -> list[tuple[Reason, Decimal, Decimal, Decimal]]:
    return volume_split(TABLE, D(before), D(revenue))


def test_entitlement_is_the_rate_of_the_whole_revenue_rounded_half_even():
    assert entitlement(TABLE, D("99999.99")) == D("1000.00")
    assert entitlement(TABLE, D("100000")) == D("2000.00")
    assert entitlement(TABLE, D("500000")) == D("15000.00")
    assert entitlement(TABLE, D("112.50")) == D("1.12")  # 1.125 -> half-even
    assert entitlement(TABLE, D("113.50")) == D("1.14")  # 1.135 -> half-even
    assert entitlement(TABLE, D("-1000")) == D("-10.00")  # rate of max(R, 0)


def test_a_line_below_a_threshold_is_all_base():
    assert split("0", "60000") == [(Reason.BASE, D(60000), D("0.01"), D("600.00"))]


def test_crossing_the_first_threshold_trues_up_all_revenue_to_the_new_rate():
    assert split("60000", "60000") == [
        (Reason.BASE, D(60000), D("0.01"), D("600.00")),
        (Reason.TIER_TRUE_UP, D(120000), D("0.01"), D("1200.00")),
    ]


def test_crossing_the_second_threshold():
    assert split("120000", "400000") == [
        (Reason.BASE, D(400000), D("0.02"), D("8000.00")),
        (Reason.TIER_TRUE_UP, D(520000), D("0.01"), D("5200.00")),
    ]


def test_a_return_crossing_back_down_is_a_negative_true_up():
    assert split("520000", "-30000") == [
        (Reason.BASE, D(-30000), D("0.03"), D("-900.00")),
        (Reason.TIER_TRUE_UP, D(490000), D("-0.01"), D("-4900.00")),
    ]


def test_base_carries_cumulative_rounding_instead_of_rounding_each_line():
    first, second = split("0", "333.3333"), split("333.3333", "333.3333")
    assert first[0][3] == D("3.33")
    assert second[0][3] == D("3.34")  # E(666.6666) = 6.67
    assert first[0][3] + second[0][3] == entitlement(TABLE, D("666.6666"))


revenues = st.decimals(min_value=-300000, max_value=600000, places=4, allow_nan=False)


@given(before=revenues, revenue=revenues)
def test_parts_of_one_line_sum_to_the_change_of_entitlement(before, revenue):
    parts = split(str(before), str(revenue))
    assert sum(p[3] for p in parts) == entitlement(TABLE, before + revenue) - entitlement(
        TABLE, before
    )
    crossed = TABLE.rate(before) != TABLE.rate(before + revenue)
    assert [p[0] for p in parts] == (
        [Reason.BASE, Reason.TIER_TRUE_UP] if crossed else [Reason.BASE]
    )
    assert all(p[3] == p[3].quantize(D("0.01")) for p in parts)
