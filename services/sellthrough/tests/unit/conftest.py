from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sellthrough.adapters.catalog import load_catalog
from sellthrough.domain.model import Partner, Rules


@pytest.fixture(scope="session")
def rules() -> Rules:
    return Rules(load_catalog(), frozenset({"USD", "EUR"}))


@pytest.fixture(scope="session")
def partners() -> dict[str, Partner]:
    return {
        "DIST-1": Partner("DIST-1", "DISTRIBUTOR", date(2025, 1, 1)),
        "RES-1": Partner("RES-1", "RESELLER", date(2025, 2, 1)),
        "VAR-1": Partner("VAR-1", "VAR", date(2025, 1, 1)),
        "DIST-LATE": Partner("DIST-LATE", "DISTRIBUTOR", date(2026, 3, 5)),
    }


def make_sale(**overrides: str | None) -> dict[str, str | None]:
    row: dict[str, str | None] = {
        "report_id": "R-1",
        "line_no": "1",
        "distributor_id": "DIST-1",
        "reseller_id": "RES-1",
        "sku": "FW-1100",
        "quantity": "5",
        "unit_price": "1200.50",
        "currency": "USD",
        "sold_on": "2026-03-01",
        "end_customer_name": "Acme Corp",
        "end_customer_country": "US",
        "deal_id": "",
    }
    row.update(overrides)
    return row


def make_shipment(**overrides: str | None) -> dict[str, str | None]:
    row: dict[str, str | None] = {
        "shipment_id": "S-1",
        "distributor_id": "DIST-1",
        "sku": "SW-24P",
        "quantity": "40",
        "unit_cost": "1500",
        "currency": "USD",
        "shipped_on": "2026-02-01",
    }
    row.update(overrides)
    return row


Row = Callable[..., dict[str, str | None]]


@pytest.fixture
def sale() -> Row:
    """Raw fields of a valid report line, with overrides."""
    return make_sale


@pytest.fixture
def shipment() -> Row:
    """Raw fields of a valid shipment line, with overrides."""
    return make_shipment
