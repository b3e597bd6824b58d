"""Raw text in, typed line or coded refusal out. Never raises on bad input."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation

from sellthrough.domain.model import (
    Product,
    Reason,
    Rejection,
    SaleLine,
    ShipmentLine,
)

SALE_HEADER = (
    "report_id",
    "line_no",
    "distributor_id",
    "reseller_id",
    "sku",
    "quantity",
    "unit_price",
    "currency",
    "sold_on",
    "end_customer_name",
    "end_customer_country",
    "deal_id",
)
SHIPMENT_HEADER = (
    "shipment_id",
    "distributor_id",
    "sku",
    "quantity",
    "unit_cost",
    "currency",
    "shipped_on",
)
CATALOG_HEADER = ("sku", "description", "list_price", "product_line")
PRICE_PLACES = 4
MAX_FIELD = 1000  # characters; keeps every event far below the broker's message size limit

RawFields = Mapping[str, str | None]

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.([0-9]*))?|\.([0-9]+))")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# far beyond any valid quantity, small enough that int() never meets Python's digit limit
_MAX_DIGITS = 20
# valid dates already read: a report names few distinct days, and reading one costs more than
# looking it up (bounded, so odd input cannot grow it without limit)
_DATES: dict[str, date] = {}
_MAX_DATES = 20_000


class Malformed(ValueError):
    """A field that cannot be read; becomes MALFORMED_ROW."""


def malformed(detail: str) -> Rejection:
    return Rejection(Reason.MALFORMED_ROW, detail)


def fields_from_row(row: Sequence[str], header: Sequence[str]) -> RawFields | Rejection:
    """A CSV row as named raw fields, or MALFORMED_ROW when the column count is wrong."""
    if len(row) != len(header):
        return malformed(f"expected {len(header)} columns, found {len(row)}")
    return dict(zip(header, row, strict=True))


def fields_from_json(obj: object, header: Sequence[str]) -> RawFields | Rejection:
    """A JSON-lines object as raw fields. Numbers arrive as their source text."""
    if not isinstance(obj, dict):
        return malformed("each line must be a JSON object")
    unknown = sorted(str(k) for k in obj if k not in header)
    if unknown:
        return malformed(f"unknown field(s): {', '.join(unknown)[:200]}")
    fields: dict[str, str | None] = {}
    for name in header:
        value = obj.get(name)
        if value is not None and not isinstance(value, str):
            return malformed(f"{name}: expected a string or number")
        fields[name] = value
    return fields


def _optional(raw: RawFields, name: str) -> str | None:
    value = raw.get(name)
    value = value.strip() if value else ""
    if len(value) > MAX_FIELD:
        raise Malformed(f"{name} is longer than {MAX_FIELD} characters")
    return value or None


def _text(raw: RawFields, name: str) -> str:
    value = _optional(raw, name)
    if value is None:
        raise Malformed(f"{name} is missing")
    return value


def _values(raw: RawFields, header: Sequence[str], required: int) -> list[str]:
    """The stripped values in header order; the first `required` ones must be present."""
    values = [v.strip() if v else "" for v in map(raw.get, header)]
    if max(map(len, values)) > MAX_FIELD:
        long = next(n for n, v in zip(header, values, strict=True) if len(v) > MAX_FIELD)
        raise Malformed(f"{long} is longer than {MAX_FIELD} characters")
    if not all(values[:required]):
        missing = [n for n, v in zip(header[:required], values, strict=False) if not v]
        raise Malformed(f"{', '.join(missing)} missing")
    return values


def _to_int(name: str, value: str) -> int:
    if value.isdigit() and value.isascii() and len(value) <= _MAX_DIGITS:
        return int(value)  # the common case, without the pattern: plain ASCII digits
    if not _INTEGER.fullmatch(value):
        raise Malformed(f"{name} {value[:40]!r} is not an integer")
    if len(value) > _MAX_DIGITS:
        digits = value.lstrip("+-").lstrip("0")
        if len(digits) > _MAX_DIGITS:
            return -(10**_MAX_DIGITS) if value.startswith("-") else 10**_MAX_DIGITS
    return int(value)


def _integer(raw: RawFields, name: str) -> int:
    return _to_int(name, _text(raw, name))


def _to_decimal(name: str, value: str) -> Decimal:
    whole, _, fraction = value.partition(".")
    if (
        whole.isdigit()
        and whole.isascii()
        and len(fraction) <= PRICE_PLACES
        and (not fraction or (fraction.isdigit() and fraction.isascii()))
    ):
        return Decimal(value)  # the common case, without the pattern: 123 or 123.45
    match = _DECIMAL.fullmatch(value)
    if not match:
        raise Malformed(f"{name} {value[:40]!r} is not a decimal number")
    places = len(match.group(1) or match.group(2) or "")
    if places > PRICE_PLACES:
        raise Malformed(f"{name} {value[:40]!r} has more than {PRICE_PLACES} decimal places")
    try:
        return Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only numbers
        raise Malformed(f"{name} {value[:40]!r} is not a decimal number") from exc


def _decimal(raw: RawFields, name: str) -> Decimal:
    return _to_decimal(name, _text(raw, name))


def _to_date(name: str, value: str) -> date:
    day = _DATES.get(value)
    if day is not None:
        return day
    if not _DATE.fullmatch(value):
        raise Malformed(f"{name} {value[:40]!r} is not an ISO date (YYYY-MM-DD)")
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise Malformed(f"{name} {value!r} is not a calendar date") from exc
    if len(_DATES) < _MAX_DATES:
        _DATES[value] = day
    return day


def parse_sale(raw: RawFields) -> SaleLine | Rejection:
    try:
        (report_id, line_no, distributor, reseller, sku, qty, price, currency, sold_on, name,
         country, deal) = _values(raw, SALE_HEADER, 9)  # fmt: skip
        number = _to_int("line_no", line_no)
        if not 1 <= number < 2**63:
            raise Malformed(f"line_no {line_no} must be a positive integer")
        return SaleLine(  # positional, in field order: cheaper than keywords on this hot path
            report_id,
            number,
            distributor,
            reseller,
            sku,
            _to_int("quantity", qty),
            _to_decimal("unit_price", price),
            currency.upper(),
            _to_date("sold_on", sold_on),
            name or None,
            country or None,
            deal or None,
        )
    except Malformed as exc:
        return malformed(str(exc))


def parse_shipment(raw: RawFields) -> ShipmentLine | Rejection:
    try:
        shipment_id, distributor, sku, qty, cost, currency, shipped_on = _values(
            raw, SHIPMENT_HEADER, 7
        )
        return ShipmentLine(
            shipment_id=shipment_id,
            distributor_id=distributor,
            sku=sku,
            quantity=_to_int("quantity", qty),
            unit_cost=_to_decimal("unit_cost", cost),
            currency=currency.upper(),
            shipped_on=_to_date("shipped_on", shipped_on),
        )
    except Malformed as exc:
        return malformed(str(exc))


def readable_sale_ref(raw: RawFields) -> tuple[str | None, int | None, str | None]:
    """(report_id, line_no, distributor_id) as far as they can be read from a refused line."""
    return _readable(raw, "report_id"), _readable_line_no(raw), _readable(raw, "distributor_id")


def readable_shipment_ref(raw: RawFields) -> tuple[str | None, str | None]:
    """(shipment_id, distributor_id) as far as they can be read from a refused line."""
    return _readable(raw, "shipment_id"), _readable(raw, "distributor_id")


def _readable(raw: RawFields, name: str) -> str | None:
    try:
        return _optional(raw, name)
    except Malformed:
        return None


def _readable_line_no(raw: RawFields) -> int | None:
    try:
        line_no = _integer(raw, "line_no")
    except Malformed:
        return None
    return line_no if 1 <= line_no < 2**63 else None


def parse_catalog(rows: Iterable[Sequence[str]]) -> dict[str, Product]:
    """The product catalog; raises ValueError naming the first bad row (a start-up error)."""
    it = iter(rows)
    header = tuple(c.strip() for c in next(it, ()))
    if header != CATALOG_HEADER:
        raise ValueError(f"catalog header must be {','.join(CATALOG_HEADER)}, not {header}")
    catalog: dict[str, Product] = {}
    for n, row in enumerate(it, start=2):
        if not row or not any(c.strip() for c in row):
            continue
        fields = fields_from_row(row, CATALOG_HEADER)
        if isinstance(fields, Rejection):
            raise ValueError(f"catalog line {n}: {fields.detail}")
        try:
            product = Product(
                sku=_text(fields, "sku"),
                description=_text(fields, "description"),
                list_price=_decimal(fields, "list_price"),
                product_line=_text(fields, "product_line"),
            )
        except Malformed as exc:
            raise ValueError(f"catalog line {n}: {exc}") from exc
        if product.sku in catalog:
            raise ValueError(f"catalog line {n}: duplicate sku {product.sku}")
        catalog[product.sku] = product
    return catalog
