"""Turning a submitted JSON document into a DealRequest, or naming every field that is wrong."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from channelstream_common.countries import ISO_3166_ALPHA2 as ISO_COUNTRIES

from dealreg.domain.customers import normalize_domain, normalize_name
from dealreg.domain.model import Customer, DealRequest, Evidence, Product

DEAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
PARTNER_ID = re.compile(r"[A-Z0-9-]{3,32}")
CURRENCY = re.compile(r"[A-Z]{3}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
CENT = Decimal("0.01")
MAX_VALUE = Decimal("1e16")  # Avro decimal(18, 2)
MAX_INT = 2**31 - 1
MAX_PRODUCTS = 500
FIELDS = {
    "deal_id",
    "partner_id",
    "customer",
    "products",
    "estimated_value",
    "currency",
    "expected_close_on",
    "evidence",
    "registered_on",
}


@dataclass
class InvalidRequest:
    """What could be read from a refused request, for the rejection event."""

    errors: dict[str, str] = field(default_factory=dict)
    deal_id: str = ""
    partner_id: str = ""
    customer: Customer | None = None
    registered_on: date | None = None

    @property
    def detail(self) -> str:
        return "; ".join(f"{path}: {problem}" for path, problem in self.errors.items())


def invalid_body(problem: str) -> InvalidRequest:
    return InvalidRequest({"body": problem})


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not a number")


def decode_body(body: str) -> Any:
    """JSON text to a document, numbers with fractions as Decimal (never binary floats)."""
    try:
        return json.loads(body, parse_float=Decimal, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:
        return invalid_body(f"not valid JSON: {str(exc)[:200]}")


class _Reader:
    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def fail(self, path: str, problem: str) -> None:
        self.errors.setdefault(path, problem)

    def text(self, doc: dict[str, Any], key: str, path: str, *, limit: int = 200) -> str | None:
        value = doc.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            self.fail(path, "is required")
            return None
        if not isinstance(value, str):
            self.fail(path, "must be a string")
            return None
        if len(value.strip()) > limit:
            self.fail(path, f"must be at most {limit} characters")
            return None
        return value.strip()

    def optional_text(self, doc: dict[str, Any], key: str, path: str) -> str | None:
        value = doc.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return self.text(doc, key, path)

    def day(self, doc: dict[str, Any], key: str, path: str) -> date | None:
        value = doc.get(key)
        if value is None:
            return None
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.fail(path, "must be a date YYYY-MM-DD")
        return None

    def matching(self, doc: dict[str, Any], key: str, pattern: re.Pattern[str], hint: str) -> str:
        value = self.text(doc, key, key, limit=64)
        if value is not None and not pattern.fullmatch(value):
            self.fail(key, f"{value!r} {hint}")
        return value or ""


def parse_request(doc: Any, *, today: date) -> DealRequest | InvalidRequest:
    """Validate a decoded JSON document (numbers as Decimal); `today` bounds registered_on."""
    if not isinstance(doc, dict):
        return invalid_body("must be a JSON object")
    r = _Reader()
    for unknown in sorted(set(doc) - FIELDS):
        r.fail(unknown, "unknown field")
    deal_id = r.matching(doc, "deal_id", DEAL_ID, "must be 1-64 letters, digits or . _ : -")
    partner_id = r.matching(doc, "partner_id", PARTNER_ID, "must match [A-Z0-9-]{3,32}")
    registered_on = r.day(doc, "registered_on", "registered_on") or today
    if registered_on > today:
        r.fail("registered_on", f"must not be after today ({today})")
    anchor = None if "registered_on" in r.errors else registered_on  # for relative checks
    customer = _customer(r, doc.get("customer"))
    products = _products(r, doc.get("products"))
    value = _money(r, doc.get("estimated_value"))
    currency = r.matching(doc, "currency", CURRENCY, "must be an ISO 4217 code like EUR")
    close_on = r.day(doc, "expected_close_on", "expected_close_on")
    if close_on is None:
        r.fail("expected_close_on", "is required")
    elif anchor and close_on < anchor:
        r.fail("expected_close_on", f"must not be before registered_on ({anchor})")
    evidence = _evidence(r, doc.get("evidence"), anchor)
    if r.errors or customer is None or value is None or close_on is None:
        return InvalidRequest(
            r.errors,
            deal_id=doc["deal_id"] if isinstance(doc.get("deal_id"), str) else "",
            partner_id=doc["partner_id"] if isinstance(doc.get("partner_id"), str) else "",
            customer=customer,
            registered_on=anchor,
        )
    return DealRequest(
        deal_id=deal_id,
        partner_id=partner_id,
        customer=customer,
        products=products,
        estimated_value=value,
        currency=currency,
        expected_close_on=close_on,
        evidence=evidence,
        registered_on=registered_on,
    )


def _customer(r: _Reader, doc: Any) -> Customer | None:
    if not isinstance(doc, dict):
        r.fail("customer", "is required: an object with name, country and optional domain")
        return None
    for unknown in sorted(set(doc) - {"name", "country", "domain"}):
        r.fail(f"customer.{unknown}", "unknown field")
    name = r.text(doc, "name", "customer.name")
    if name is not None and not normalize_name(name):
        r.fail("customer.name", "has no letters or digits")
    country = r.text(doc, "country", "customer.country", limit=64)
    if country is not None and country.upper() not in ISO_COUNTRIES:
        r.fail("customer.country", f"{country!r} is not an ISO 3166-1 alpha-2 code")
    domain = r.optional_text(doc, "domain", "customer.domain")
    if domain is not None and normalize_domain(domain) is None:
        r.fail("customer.domain", f"{domain!r} is not an internet domain like example.com")
    if any(path.startswith("customer") for path in r.errors) or not name or not country:
        return None
    return Customer(name, country.upper(), domain)


def _products(r: _Reader, items: Any) -> tuple[Product, ...]:
    if not isinstance(items, list) or not items:
        r.fail("products", "is required: a non-empty list of {sku, quantity}")
        return ()
    if len(items) > MAX_PRODUCTS:
        r.fail("products", f"at most {MAX_PRODUCTS} products")
        return ()
    products: list[Product] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        path = f"products[{i}]"
        if not isinstance(item, dict):
            r.fail(path, "must be an object {sku, quantity}")
            continue
        for unknown in sorted(set(item) - {"sku", "quantity"}):
            r.fail(f"{path}.{unknown}", "unknown field")
        sku = r.text(item, "sku", f"{path}.sku", limit=64)
        quantity = item.get("quantity")
        if (
            isinstance(quantity, bool)
            or not isinstance(quantity, int)
            or not 0 < quantity <= MAX_INT
        ):
            r.fail(f"{path}.quantity", "must be a whole number > 0")
            continue
        if sku is None:
            continue
        if sku.upper() in seen:
            r.fail(f"{path}.sku", f"duplicate SKU {sku}")
            continue
        seen.add(sku.upper())
        products.append(Product(sku, quantity))
    return tuple(products)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _money(r: _Reader, value: Any) -> Decimal | None:
    if value is None:
        r.fail("estimated_value", "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        r.fail("estimated_value", "must be a decimal number")
        return None
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite():
        r.fail("estimated_value", f"{value!r} is not a decimal number")
    elif amount <= 0:
        r.fail("estimated_value", "must be > 0")
    elif amount != amount.quantize(CENT):
        r.fail("estimated_value", "at most 2 decimal places")
    elif amount >= MAX_VALUE:
        r.fail("estimated_value", "must be less than 10^16")
    else:
        return amount.quantize(CENT)
    return None


def _evidence(r: _Reader, doc: Any, registered_on: date | None) -> Evidence:
    if doc is None:
        return Evidence()
    if not isinstance(doc, dict):
        r.fail("evidence", "must be an object with contact_email, meeting_on or proposal_ref")
        return Evidence()
    for unknown in sorted(set(doc) - {"contact_email", "meeting_on", "proposal_ref"}):
        r.fail(f"evidence.{unknown}", "unknown field")
    email = r.optional_text(doc, "contact_email", "evidence.contact_email")
    if email is not None and not EMAIL.fullmatch(email):
        r.fail("evidence.contact_email", f"{email!r} is not an e-mail address")
    meeting_on = (
        None if doc.get("meeting_on") == "" else r.day(doc, "meeting_on", "evidence.meeting_on")
    )
    if meeting_on and registered_on and meeting_on > registered_on:
        r.fail(
            "evidence.meeting_on",
            f"a meeting held must not be after registered_on ({registered_on})",
        )
    proposal = r.optional_text(doc, "proposal_ref", "evidence.proposal_ref")
    return Evidence(email, meeting_on, proposal)
