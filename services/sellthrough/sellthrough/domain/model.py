"""The sell-through vocabulary: reasons, partners, products, typed report and shipment lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum


class Reason(StrEnum):
    """Why a line was refused; the symbols of SellThroughRejectionReason."""

    MALFORMED_ROW = "MALFORMED_ROW"
    UNKNOWN_DISTRIBUTOR = "UNKNOWN_DISTRIBUTOR"
    NOT_A_DISTRIBUTOR = "NOT_A_DISTRIBUTOR"
    UNKNOWN_RESELLER = "UNKNOWN_RESELLER"
    UNKNOWN_SKU = "UNKNOWN_SKU"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    INVALID_PRICE = "INVALID_PRICE"
    UNSUPPORTED_CURRENCY = "UNSUPPORTED_CURRENCY"
    FUTURE_DATE = "FUTURE_DATE"
    SOLD_BEFORE_ENROLLMENT = "SOLD_BEFORE_ENROLLMENT"
    CONFLICTING_RESUBMISSION = "CONFLICTING_RESUBMISSION"


class Status(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    HELD = "held"
    REJECTED = "rejected"


class Kind(StrEnum):
    SALE = "sale"
    SHIPMENT = "shipment"


DISTRIBUTOR = "DISTRIBUTOR"


@dataclass(frozen=True, slots=True)
class Partner:
    partner_id: str
    partner_type: str
    enrolled_on: date


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    description: str
    list_price: Decimal
    product_line: str


@dataclass(frozen=True, slots=True)
class Rules:
    """What a line is checked against besides partners: the catalog and accepted currencies."""

    catalog: dict[str, Product]
    currencies: frozenset[str]


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: Reason
    detail: str


@dataclass(frozen=True, slots=True)
class Hold:
    """Valid but for partners not yet known; refused with `reason` once the grace runs out."""

    reason: Reason
    detail: str


# Lines and decisions are built per submitted line: plain slotted dataclasses, because frozen
# ones cost several times more to construct on this hot path.
@dataclass(slots=True)
class SaleLine:
    report_id: str
    line_no: int
    distributor_id: str
    reseller_id: str
    sku: str
    quantity: int
    unit_price: Decimal
    currency: str
    sold_on: date
    end_customer_name: str | None
    end_customer_country: str | None
    deal_id: str | None

    @property
    def key(self) -> tuple[str, int]:
        return (self.report_id, self.line_no)


@dataclass(slots=True)
class ShipmentLine:
    shipment_id: str
    distributor_id: str
    sku: str
    quantity: int
    unit_cost: Decimal
    currency: str
    shipped_on: date

    @property
    def key(self) -> str:
        return self.shipment_id
