"""The hot path's shortcuts give exactly what the plain definitions give."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sellthrough.adapters import bulk
from sellthrough.domain.model import SaleLine, ShipmentLine
from sellthrough.domain.parsing import Malformed, _to_date, _to_decimal, _to_int
from sellthrough.domain.validation import sale_hash, shipment_hash

text = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
digitish = st.text(alphabet="0123456789+-.e _٣²", max_size=24)


def reference_digest(*parts: object) -> str:
    """The digest as first defined: the parts joined with \\x1f, None as ''."""
    joined = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.blake2b(joined.encode(), digest_size=16).hexdigest()


@settings(max_examples=200, deadline=None)
@given(
    text,
    st.integers(min_value=1, max_value=2**63 - 1),
    st.integers(min_value=-(2**31), max_value=2**31),
    st.decimals(min_value=0, max_value=10**14, places=4, allow_nan=False),
    st.one_of(st.none(), text),
    st.dates(),
)
def test_line_hashes_are_the_digest_of_the_joined_parts(
    report_id, line_no, quantity, price, optional, day
):
    line = SaleLine(
        report_id, line_no, "DIST-1", "RES-1", "FW-1100", quantity, price, "USD", day,
        optional, None, optional,
    )  # fmt: skip
    assert sale_hash(line) == reference_digest(
        report_id, line_no, "DIST-1", "RES-1", "FW-1100", quantity, f"{price:.4f}", "USD",
        day.isoformat(), optional, None, optional,
    )  # fmt: skip
    shipment = ShipmentLine(report_id, "DIST-1", "SW-24P", quantity, price, "USD", day)
    assert shipment_hash(shipment) == reference_digest(
        report_id, "DIST-1", "SW-24P", quantity, f"{price:.4f}", "USD", day.isoformat()
    )


_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.([0-9]*))?|\.([0-9]+))")


def outcome(fun, value):
    try:
        return fun("f", value)
    except Malformed as exc:
        return str(exc)


def reference_int(name: str, value: str) -> int:
    if not _INTEGER.fullmatch(value):
        raise Malformed(f"{name} {value[:40]!r} is not an integer")
    if len(value) > 20:
        digits = value.lstrip("+-").lstrip("0")
        if len(digits) > 20:
            return -(10**20) if value.startswith("-") else 10**20
    return int(value)


def reference_decimal(name: str, value: str) -> Decimal:
    match = _DECIMAL.fullmatch(value)
    if not match:
        raise Malformed(f"{name} {value[:40]!r} is not a decimal number")
    if len(match.group(1) or match.group(2) or "") > 4:
        raise Malformed(f"{name} {value[:40]!r} has more than 4 decimal places")
    return Decimal(value)


@settings(max_examples=500, deadline=None)
@given(st.one_of(digitish, text))
def test_numbers_read_as_the_patterns_define_them(value):
    assert outcome(_to_int, value) == outcome(reference_int, value)
    assert repr(outcome(_to_decimal, value)) == repr(outcome(reference_decimal, value))


@pytest.mark.parametrize(
    "value", ["12", "012", "1.", "1.5", "1.2345", "1.23456", ".5", "+1", "-1", "٣", "1" * 30]
)
def test_numbers_at_the_edges_of_the_shortcut(value):
    assert outcome(_to_int, value) == outcome(reference_int, value)
    assert repr(outcome(_to_decimal, value)) == repr(outcome(reference_decimal, value))


def test_dates_read_once_are_remembered_and_bad_ones_never():
    assert _to_date("sold_on", "2026-03-01") == date(2026, 3, 1)
    assert _to_date("sold_on", "2026-03-01") == date(2026, 3, 1)
    for _ in range(2):
        with pytest.raises(Malformed, match="is not a calendar date"):
            _to_date("sold_on", "2026-02-30")
        with pytest.raises(Malformed, match="is not an ISO date"):
            _to_date("shipped_on", "20260301")


def test_array_literals_quote_every_text_and_escape_quotes_and_backslashes():
    assert bulk.texts([]) == "{}"
    assert bulk.texts(["a", "", "NULL"]) == '{"a","","NULL"}'
    assert bulk.texts(["a", None]) == '{"a",NULL}'
    assert bulk.texts(['x"y', "b\\c", "{,}"]) == r'{"x\"y","b\\c","{,}"}'
    assert bulk.ints([1, -2]) == "{1,-2}"
    assert bulk.dates([date(2026, 3, 1)]) == "{2026-03-01}"


def test_texts_without_quotes_or_backslashes_are_joined_without_escaping(monkeypatch):
    def escaped(value: str) -> str:
        raise AssertionError("escaped a text with nothing to escape")

    monkeypatch.setattr(bulk, "_quoted", escaped)
    assert bulk.texts(["R-1", "a b", "", "é"]) == '{"R-1","a b","","é"}'
