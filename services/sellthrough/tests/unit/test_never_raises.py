"""Whatever arrives, every line gets a decision (with a reason when refused), never an error."""

from __future__ import annotations

import json
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st
from sellthrough.domain.decisions import decide
from sellthrough.domain.model import Kind, Reason, Rejection, Status
from sellthrough.domain.parsing import SALE_HEADER
from sellthrough.domain.validation import check_sale, sale_hash
from sellthrough.service_layer.flavors import SALES, SHIPMENTS
from sellthrough.service_layer.submissions import Source
from sellthrough.service_layer.uploads import CSV, NDJSON, to_submitted

SOURCE = Source(Kind.SALE, "u-1", "HTTP", "tester", None, date(2026, 3, 10))
VALID = ["R-1", "1", "DIST-1", "RES-1", "FW-1100", "5", "10.5", "USD", "2026-03-01", "", "", ""]

noise = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)
numberish = st.sampled_from(["", "0", "-1", "1.5", "1e9", "99999999999999999999", "+3", " 7 "])
field = st.one_of(noise, numberish, st.sampled_from(VALID))


def decide_all(items, rules, partners):
    parsed = [i.problem if i.problem else SALES.parse(i.fields) for i in items]
    return decide(
        parsed,
        [date(2026, 3, 10)] * len(parsed),
        {},
        lambda line, day: check_sale(line, rules, partners, day),
        sale_hash,
    )


def assert_decided(decisions):
    for d in decisions:
        assert isinstance(d.status, Status)
        if d.status is Status.REJECTED:
            assert isinstance(d.reason, Reason) and d.detail


@settings(max_examples=150, deadline=None)
@given(st.lists(field, min_size=0, max_size=16))
def test_random_csv_rows_are_decided_never_raise(rules, partners, fields):
    line = ",".join(f.replace("\n", " ") for f in fields).encode()
    item = to_submitted(2, line, CSV, SALES, SOURCE)
    if item is None:
        assert not line.strip()
        return
    assert_decided(decide_all([item], rules, partners))


@settings(max_examples=150, deadline=None)
@given(st.lists(field, min_size=12, max_size=12), st.integers(0, 11))
def test_a_valid_row_with_one_field_garbled_is_decided(rules, partners, fields, position):
    row = list(VALID)
    row[position] = fields[position]
    item = to_submitted(2, ",".join(row).replace("\n", " ").encode(), CSV, SALES, SOURCE)
    if item is not None:
        assert_decided(decide_all([item], rules, partners))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_are_a_malformed_row_or_decided(rules, partners, raw):
    for fmt in (CSV, NDJSON):
        item = to_submitted(3, raw.replace(b"\n", b" "), fmt, SALES, SOURCE)
        if item is not None:
            assert_decided(decide_all([item], rules, partners))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | noise,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(noise, inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from([*SALE_HEADER, "extra"]), json_values, max_size=14))
def test_random_json_objects_are_decided(rules, partners, obj):
    text = json.dumps(obj).encode()
    item = to_submitted(1, text, NDJSON, SALES, SOURCE)
    assert item is not None
    assert_decided(decide_all([item], rules, partners))


@settings(max_examples=100, deadline=None)
@given(st.lists(field, min_size=0, max_size=9))
def test_random_shipment_rows_parse_or_are_malformed(fields):
    item = to_submitted(2, ",".join(fields).replace("\n", " ").encode(), CSV, SHIPMENTS, SOURCE)
    if item is not None and item.problem is None:
        assert item.fields is not None
        parsed = SHIPMENTS.parse(item.fields)
        if isinstance(parsed, Rejection):
            assert parsed.reason is Reason.MALFORMED_ROW
