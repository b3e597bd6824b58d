from datetime import date
from decimal import Decimal

from analytics.domain.qbr import (
    ResellerSales,
    deltas,
    percent_change,
    share,
    top_resellers,
    weekly_trend,
)
from analytics.domain.quarters import Quarter

Q4 = Quarter(2026, 4)


def test_weekly_trend_has_every_week_and_sums_days_into_their_week():
    daily = {
        date(2026, 10, 1): (3, Decimal("30.005")),
        date(2026, 10, 4): (1, Decimal("10")),
        date(2026, 10, 5): (-2, Decimal("-20")),
        date(2026, 12, 31): (5, Decimal("50.015")),
    }
    weeks = weekly_trend(Q4, daily)
    assert len(weeks) == 14
    assert (weeks[0].units, weeks[0].revenue) == (4, Decimal("40.00"))  # 40.005 -> even
    assert (weeks[1].units, weeks[1].revenue) == (-2, Decimal("-20.00"))
    assert all(w.units == 0 and w.revenue == 0 for w in weeks[2:13])
    assert (weeks[13].units, weeks[13].revenue) == (5, Decimal("50.02"))


def test_percent_change_is_undefined_from_zero_and_signed_against_negatives():
    assert percent_change(5, 0) is None
    assert percent_change(Decimal("150"), Decimal("100")) == Decimal("50.0")
    assert percent_change(1, 3) == Decimal("-66.7")
    assert percent_change(Decimal("-5"), Decimal("-10")) == Decimal("50.0")


def test_deltas_compare_each_metric_and_leave_missing_ones_undefined():
    now = {"a": Decimal("12.50"), "b": 4, "c": None, "d": True}
    before = {"a": Decimal("10.00"), "b": 4, "c": Decimal("1"), "d": False}
    got = {d.metric: d for d in deltas(now, before, ["a", "b", "c", "d"])}
    assert (got["a"].change, got["a"].change_pct) == (Decimal("2.50"), Decimal("25.0"))
    assert (got["b"].change, got["b"].change_pct) == (0, Decimal("0.0"))
    assert got["c"].change is None and got["c"].previous == Decimal("1")
    assert got["d"].current is None  # booleans are no quantities
    first = deltas(now, None, ["a"])[0]
    assert (first.current, first.previous, first.change) == (Decimal("12.50"), None, None)


def test_top_resellers_by_revenue_ties_by_id_at_most_ten():
    rows = [ResellerSales(f"R{i:02d}", None, 1, Decimal(i % 4), Decimal(0)) for i in range(15)]
    top = top_resellers(rows)
    assert len(top) == 10
    assert [r.reseller_id for r in top[:4]] == ["R03", "R07", "R11", "R02"]
    assert [r.revenue for r in top] == sorted((r.revenue for r in top), reverse=True)


def test_share_is_a_percentage_of_the_total():
    assert share(Decimal("25"), Decimal("200")) == Decimal("12.5")
    assert share(Decimal("1"), Decimal("0")) is None
