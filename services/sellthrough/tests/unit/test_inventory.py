from __future__ import annotations

from datetime import date
from decimal import Decimal

from sellthrough.domain.inventory import inventory_row, new_fact_sums


def test_new_facts_add_up_per_distributor_and_sku_in_any_order():
    shipments = [("D-1", "A", 100), ("D-1", "A", 20), ("D-2", "B", 5)]
    sales = [("D-1", "A", 7, date(2026, 1, 3)), ("D-1", "A", -2, date(2026, 2, 1))]
    sums, latest = new_fact_sums(shipments, sales)
    assert sums == {("D-1", "A"): (120, 5), ("D-2", "B"): (5, 0)}
    assert latest == {"D-1": date(2026, 2, 1)}
    assert new_fact_sums(reversed(shipments), reversed(sales)) == (sums, latest)


def test_an_inventory_row_uses_the_shared_arithmetic():
    row = inventory_row("D-1", "A", 120, 5, date(2026, 2, 1), 26)
    assert (row.on_hand, row.avg_weekly_units, row.weeks_of_supply) == (
        115,
        Decimal("2.00"),
        Decimal("57.50"),
    )
    assert row.loading_flag is True


def test_stock_without_sales_is_loading_with_no_weeks_of_supply():
    row = inventory_row("D-1", "A", 10, 0, None, 0)
    assert (row.weeks_of_supply, row.loading_flag, row.as_of) == (None, True, None)
