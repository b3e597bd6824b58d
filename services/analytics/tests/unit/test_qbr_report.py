import re
from datetime import date
from decimal import Decimal

from analytics.entrypoints.qbr_html import render
from analytics.entrypoints.render import jsonable, to_csv


def qbr_data() -> dict:
    return {
        "distributor": {
            "partner_id": "D-1",
            "legal_name": "Dist <One> & Co",
            "tier": "GOLD",
            "enrolled_on": date(2026, 1, 5),
        },
        "quarter": "2026-Q4",
        "previous_quarter": "2026-Q3",
        "scorecard": {"rebate_accrued": Decimal("3.85"), "loading_skus": 2},
        "quarter_over_quarter": [
            {
                "metric": "sell_through_revenue",
                "current": Decimal("1493.82"),
                "previous": Decimal("199.90"),
                "change": Decimal("1293.92"),
                "change_pct": Decimal("647.3"),
            },
            {
                "metric": "active_resellers",
                "current": 2,
                "previous": 2,
                "change": 0,
                "change_pct": Decimal("0.0"),
            },
        ],
        "weekly_sell_through": [
            {
                "week_start": date(2026, 10, 1),
                "week_end": date(2026, 10, 4),
                "units": 3,
                "revenue": Decimal("59.97"),
            },
            {
                "week_start": date(2026, 10, 5),
                "week_end": date(2026, 10, 11),
                "units": -1,
                "revenue": Decimal("-19.99"),
            },
        ],
        "top_resellers": [
            {
                "rank": 1,
                "reseller_id": "R-1",
                "legal_name": "Res One",
                "units": 2,
                "revenue": Decimal("40.00"),
                "share_pct": Decimal("100.0"),
                "previous_revenue": Decimal("0.00"),
                "change": Decimal("40.00"),
            }
        ],
        "inventory_as_of": date(2026, 12, 2),
        "weeks_of_supply": [
            {
                "sku": "SKU-A",
                "sell_in_units": 150,
                "sell_through_units": 32,
                "on_hand": 118,
                "units_in_window": 22,
                "as_of": date(2026, 12, 2),
                "avg_weekly_units": Decimal("1.69"),
                "weeks_of_supply": Decimal("69.73"),
                "loading_flag": True,
            },
            {
                "sku": "SKU-B",
                "sell_in_units": 200,
                "sell_through_units": 0,
                "on_hand": 200,
                "units_in_window": 0,
                "as_of": date(2026, 12, 2),
                "avg_weekly_units": Decimal("0.00"),
                "weeks_of_supply": None,
                "loading_flag": True,
            },
            {
                "sku": "SKU-C",
                "sell_in_units": 10,
                "sell_through_units": 9,
                "on_hand": 1,
                "units_in_window": 9,
                "as_of": date(2026, 12, 2),
                "avg_weekly_units": Decimal("0.69"),
                "weeks_of_supply": Decimal("1.44"),
                "loading_flag": False,
            },
        ],
        "rebates_by_reason": [
            {"reason": "BASE", "accruals": 2, "amount": Decimal("3.80")},
            {"reason": "TIER_TRUE_UP", "accruals": 1, "amount": Decimal("0.05")},
            {"reason": "DEAL_REG_BONUS", "accruals": 0, "amount": Decimal("0.00")},
        ],
        "reseller_network": [
            {
                "partner_id": "R-3",
                "legal_name": "Quiet Reseller",
                "partner_type": "RESELLER",
                "enrolled_on": date(2026, 7, 1),
                "new_this_quarter": False,
                "sell_through_revenue": Decimal("0.00"),
                "deals_registered": 0,
                "dark": True,
            }
        ],
    }


def test_report_is_self_contained_html_with_inline_svg_charts():
    html = render(qbr_data())
    assert html.startswith("<!DOCTYPE html>")
    assert html.count("<svg") == 4  # trend, top resellers, weeks of supply, rebates
    assert "<script" not in html and "<link" not in html and "<img" not in html
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"(src|href)\s*=", html)


def test_report_shows_the_numbers_and_highlights_loading_skus():
    html = render(qbr_data())
    assert "Dist &lt;One&gt; &amp; Co" in html  # escaped, never raw
    for text in ("1,493.82", "647.3", "59.97", "-19.99", "69.73", "LOADING", "no sell-through"):
        assert text in html
    alert_rows = re.findall(r'<tr class="alert"><td>([^<]*)</td>', html)
    assert alert_rows == ["SKU-A", "SKU-B", "R-3"]
    assert "3.85" in html  # rebate total


def test_report_is_identical_for_identical_data():
    assert render(qbr_data()) == render(qbr_data())


def test_json_keeps_money_exact_as_strings_and_dates_iso():
    assert jsonable({"a": Decimal("0.10"), "d": date(2026, 1, 2), "l": [Decimal("-1.50")]}) == {
        "a": "0.10",
        "d": "2026-01-02",
        "l": ["-1.50"],
    }


def test_csv_has_a_header_and_renders_null_and_booleans_plainly():
    rows = [{"a": Decimal("1.10"), "b": None, "c": True}, {"a": Decimal("-2.00"), "c": False}]
    assert to_csv(rows, ["a", "b", "c"]) == "a,b,c\n1.10,,true\n-2.00,,false\n"
