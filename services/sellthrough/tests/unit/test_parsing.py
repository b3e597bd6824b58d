from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sellthrough.domain.model import Reason, Rejection, SaleLine, ShipmentLine
from sellthrough.domain.parsing import (
    SALE_HEADER,
    fields_from_json,
    fields_from_row,
    parse_catalog,
    parse_sale,
    parse_shipment,
    readable_sale_ref,
)


def test_a_valid_row_becomes_a_typed_sale_line(sale):
    line = parse_sale(sale(unit_price="12.5", quantity="-3", currency="usd", deal_id=" D-9 "))
    assert line == SaleLine(
        "R-1", 1, "DIST-1", "RES-1", "FW-1100", -3, Decimal("12.5"), "USD",
        date(2026, 3, 1), "Acme Corp", "US", "D-9",
    )  # fmt: skip


def test_empty_optional_fields_become_none(sale):
    line = parse_sale(sale(end_customer_name="", end_customer_country=None, deal_id="  "))
    assert isinstance(line, SaleLine)
    assert (line.end_customer_name, line.end_customer_country, line.deal_id) == (None, None, None)


def test_a_valid_shipment_row_becomes_a_typed_shipment(shipment):
    assert parse_shipment(shipment(unit_cost="999.9999")) == ShipmentLine(
        "S-1", "DIST-1", "SW-24P", 40, Decimal("999.9999"), "USD", date(2026, 2, 1)
    )


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("line_no", "abc", "line_no 'abc' is not an integer"),
        ("line_no", "0", "line_no 0 must be a positive integer"),
        ("line_no", "", "line_no missing"),
        ("quantity", "1.0", "quantity '1.0' is not an integer"),
        ("quantity", "1_000", "quantity '1_000' is not an integer"),
        ("unit_price", "12.34567", "more than 4 decimal places"),
        ("unit_price", "1e3", "is not a decimal number"),
        ("unit_price", "NaN", "is not a decimal number"),
        ("sold_on", "2026-02-30", "is not a calendar date"),
        ("sold_on", "20260301", "is not an ISO date"),
        ("sold_on", "01/03/2026", "is not an ISO date"),
        ("report_id", " ", "report_id missing"),
        ("sku", None, "sku missing"),
        ("end_customer_name", "x" * 1001, "end_customer_name is longer than 1000 characters"),
    ],
)
def test_unreadable_fields_are_malformed_rows(sale, field, value, expected):
    result = parse_sale(sale(**{field: value}))
    assert isinstance(result, Rejection)
    assert result.reason is Reason.MALFORMED_ROW
    assert expected in result.detail


def test_a_row_with_the_wrong_column_count_is_malformed():
    result = fields_from_row(["R-1", "1", "DIST-1"], SALE_HEADER)
    assert result == Rejection(Reason.MALFORMED_ROW, "expected 12 columns, found 3")


def test_json_lines_numbers_arrive_as_their_source_text(sale):
    fields = fields_from_json({**sale(), "quantity": "7", "deal_id": None}, SALE_HEADER)
    assert isinstance(fields, dict)
    line = parse_sale(fields)
    assert isinstance(line, SaleLine) and line.quantity == 7


@pytest.mark.parametrize(
    ("extra", "detail"),
    [
        ({"quantitiy": "5"}, "unknown field(s): quantitiy"),
        ({"quantity": True}, "quantity: expected a string or number"),
        ({"sku": {"a": 1}}, "sku: expected a string or number"),
    ],
)
def test_json_lines_that_are_not_flat_objects_of_known_fields_are_malformed(sale, extra, detail):
    assert fields_from_json({**sale(), **extra}, SALE_HEADER) == Rejection(
        Reason.MALFORMED_ROW, detail
    )


def test_a_json_line_that_is_not_an_object_is_malformed():
    assert fields_from_json([1, 2], SALE_HEADER) == Rejection(
        Reason.MALFORMED_ROW, "each line must be a JSON object"
    )


def test_what_can_be_read_of_a_refused_line_is_kept_for_the_rejection(sale):
    assert readable_sale_ref(sale(line_no="x", quantity="?")) == ("R-1", None, "DIST-1")
    assert readable_sale_ref(sale(line_no="42")) == ("R-1", 42, "DIST-1")


def test_the_catalog_is_read_and_bad_catalogs_are_refused_naming_the_line():
    rows = [["sku", "description", "list_price", "product_line"], ["A-1", "Thing", "10", "L"]]
    assert parse_catalog(rows)["A-1"].list_price == Decimal(10)
    with pytest.raises(ValueError, match="catalog line 3: duplicate sku A-1"):
        parse_catalog([*rows, ["A-1", "Again", "1", "L"]])
    with pytest.raises(ValueError, match="catalog header"):
        parse_catalog([["sku", "price"]])
