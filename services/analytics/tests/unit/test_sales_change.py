import random
from datetime import date
from decimal import Decimal

from analytics.domain.sales import ScorecardChange, Sums, quarter_of, scorecard_change

OCT, DEC, JAN = date(2026, 10, 1), date(2026, 12, 31), date(2027, 1, 1)
SALES = [
    ("D", "R", 3, Decimal("19.9900"), OCT, "DL1"),
    ("D", "R", -1, Decimal("19.9900"), DEC, None),
    ("D", "S", 2, Decimal("0.0050"), OCT, "DL1"),
    ("D", "R", 1, Decimal("5.0000"), JAN, "DL1"),
    ("E", "R", -2, Decimal("7.1250"), OCT, None),
]
ACCRUALS = [("D", "2026-Q4", Decimal("4.40")), ("D", "2026-Q4", Decimal("-0.60"))]


def test_lines_add_units_exact_revenue_and_count_per_distributor_reseller_quarter():
    change = scorecard_change(SALES, ACCRUALS)
    assert change.sales == {
        ("D", "R", "2026-Q4"): Sums(2, Decimal("39.9800"), 2),
        ("D", "S", "2026-Q4"): Sums(2, Decimal("0.0100"), 1),
        ("D", "R", "2027-Q1"): Sums(1, Decimal("5.0000"), 1),
        ("E", "R", "2026-Q4"): Sums(-2, Decimal("-14.2500"), 1),
    }
    assert change.conversions == {("DL1", "R"), ("DL1", "S")}
    assert change.rebates == {("D", "2026-Q4"): Decimal("3.80")}


def test_sums_keep_the_scale_of_the_stored_columns_and_never_round():
    big = Decimal("99999999999999.9999")  # the largest numeric(18, 4)
    change = scorecard_change([("D", "R", 2**31 - 1, big, OCT, None)] * 30, [])
    revenue = change.sales[("D", "R", "2026-Q4")].revenue
    # 29 digits: Python's default context (28) gives 6442450940999999993557549.051
    assert str(revenue) == "6442450940999999993557549.0590"
    # values are first rounded as numeric(18, 4) / (18, 2) store them: half away from zero
    odd = scorecard_change(
        [("D", "R", 1, Decimal("1.00005"), OCT, None), ("D", "R", -1, Decimal("1"), OCT, None)],
        [("D", "2026-Q4", Decimal("-0.125"))],
    )
    assert str(odd.sales[("D", "R", "2026-Q4")].revenue) == "0.0001"
    assert str(odd.rebates[("D", "2026-Q4")]) == "-0.13"


def test_any_order_and_any_batching_give_the_same_sums():
    rng = random.Random(7)
    sales = [
        (f"D{rng.randrange(3)}", f"R{rng.randrange(5)}", rng.randrange(-3, 9),
         Decimal(rng.randrange(1, 10**6)).scaleb(-4), date(2026, rng.randrange(1, 13), 1),
         rng.choice([None, "DL1", "DL2"]))
        for _ in range(300)
    ]  # fmt: skip
    accruals = [(f"D{i % 3}", f"2026-Q{i % 4 + 1}", Decimal(i - 20).scaleb(-2)) for i in range(50)]
    whole = scorecard_change(sales, accruals)
    rng.shuffle(sales)
    rng.shuffle(accruals)
    merged = ScorecardChange()
    for j in range(5):  # five batches
        part = scorecard_change(sales[j * 60 : j * 60 + 60], accruals[j * 10 : j * 10 + 10])
        for key, s in part.sales.items():
            m = merged.sales.setdefault(key, Sums())
            m.units, m.lines = m.units + s.units, m.lines + s.lines
            m.revenue += s.revenue
        merged.conversions |= part.conversions
        for key2, amount in part.rebates.items():
            merged.rebates[key2] = merged.rebates.get(key2, Decimal(0)) + amount
    assert merged == whole
    assert {s.revenue.as_tuple().exponent for s in whole.sales.values()} == {-4}


def test_nothing_new_changes_nothing():
    assert not scorecard_change([], [])
    assert scorecard_change([], [("D", "2026-Q4", Decimal("0.00"))])  # a quarter with a rebate


def test_quarter_of_is_bi_quarter_of():
    assert quarter_of(date(2026, 3, 31)) == "2026-Q1"
    assert quarter_of(date(2026, 4, 1)) == "2026-Q2"
    assert quarter_of(date(999, 12, 1)) == "0999-Q4"  # lpad(year, 4, '0')
