from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
from sellthrough.domain.model import Kind, Reason, Status
from sellthrough.service_layer.flavors import SALES, SHIPMENTS
from sellthrough.service_layer.submissions import Source, Tally
from sellthrough.service_layer.uploads import (
    CSV,
    NDJSON,
    BadUpload,
    LineSplitter,
    _without_header,
    numbered_lines,
    to_submitted,
)

SOURCE = Source(Kind.SALE, "u-1", "CLI", "ops", None, date(2026, 3, 10))


def test_lines_split_across_chunks_are_joined():
    s = LineSplitter()
    assert s.feed(b"ab") == []
    assert s.feed(b"c\nde") == [b"abc"]
    assert s.feed(b"f\n\ng") == [b"def", b""]
    assert s.finish() == [b"g"]


def test_an_over_long_line_is_skipped_without_being_buffered():
    s = LineSplitter(limit=8)
    assert s.feed(b"ok\n" + b"x" * 20) == [b"ok"]
    assert s.carry == b""
    assert s.feed(b"y" * 50) == []
    assert s.feed(b"zz\nnext\n") == [None, b"next"]
    assert s.finish() == []


async def chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def test_batches_are_bounded_and_numbered_by_physical_line():
    data = b"".join(f"line {i}\n".encode() for i in range(1, 12))
    batches = [b async for b in numbered_lines(chunks(data, 7), 4)]
    assert [len(b) for b in batches] == [4, 4, 3]
    assert batches[2] == [(9, b"line 9"), (10, b"line 10"), (11, b"line 11")]


def test_a_csv_line_is_split_into_named_fields():
    item = to_submitted(
        5, b'R-1,2,DIST-1,RES-1,FW-1100,3,9.99,USD,2026-03-01,"Acme, Inc.",US,D-1\r', CSV,
        SALES, SOURCE,
    )  # fmt: skip
    assert item is not None and item.problem is None and item.fields is not None
    assert item.fields["end_customer_name"] == "Acme, Inc."
    assert item.origin == "u-1:5"
    assert item.raw_line.endswith("US,D-1")


@pytest.mark.parametrize(
    ("line", "fmt", "detail"),
    [
        (b"\xff\xfe,1", CSV, "not valid UTF-8"),
        (None, CSV, "longer than"),
        (b"{not json", NDJSON, "not valid JSON"),
        (b"a,b", CSV, "expected 12 columns, found 2"),
        (b"[1]", NDJSON, "each line must be a JSON object"),
    ],
)
def test_unreadable_lines_are_malformed_rows(line, fmt, detail):
    item = to_submitted(3, line, fmt, SALES, SOURCE)
    assert item is not None and item.problem is not None
    assert item.problem.reason is Reason.MALFORMED_ROW
    assert detail in item.problem.detail


def test_blank_lines_are_not_lines():
    assert to_submitted(3, b"  \r", CSV, SALES, SOURCE) is None
    assert to_submitted(3, b"", NDJSON, SALES, SOURCE) is None


def test_the_csv_header_must_be_exact_and_may_carry_a_bom():
    header = ",".join(SHIPMENTS.header).encode()
    rest = [(2, b"S-1,...")]
    assert _without_header([(1, b"\xef\xbb\xbf" + header + b"\r"), *rest], SHIPMENTS) == rest
    with pytest.raises(BadUpload) as bad:
        _without_header([(1, header.replace(b"unit_cost", b"cost"))], SHIPMENTS)
    assert bad.value.code == "BAD_HEADER"
    with pytest.raises(BadUpload) as empty:
        _without_header(None, SHIPMENTS)
    assert empty.value.code == "MISSING_HEADER"


def test_a_tally_counts_new_lines_and_lines_decided_after_a_hold():
    t = Tally()
    for status, reason in [
        (Status.ACCEPTED, None),
        (Status.DUPLICATE, None),
        (Status.HELD, "UNKNOWN_RESELLER"),
        (Status.REJECTED, "UNKNOWN_SKU"),
    ]:
        t.count(status, reason, fresh=True)
    later = Tally()
    later.count(Status.REJECTED, "UNKNOWN_RESELLER", fresh=False)
    t.add(later)
    assert t.as_json() == {
        "lines": 4,
        "accepted": 1,
        "duplicates": 1,
        "held": 0,
        "rejected": {"UNKNOWN_RESELLER": 1, "UNKNOWN_SKU": 1},
    }
