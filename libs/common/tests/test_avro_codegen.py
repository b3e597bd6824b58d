"""The generated Avro reader and writer are fastavro, only faster: same bytes, same values and
types, for every version of every event schema; malformed input is refused; AvroSerde keeps its
behaviour with them wired in."""

from __future__ import annotations

import copy
import datetime as dt
import decimal
import enum
import io
import math
import random
import string
import struct
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import fastavro
import pytest
from channelstream_common import schemas, serde
from channelstream_common.avro_codegen import compile_reader, compile_writer
from channelstream_common.topics import SELL_THROUGH_REPORTED

SCHEMA_VERSIONS = [
    pytest.param(schema, id=f"{event}-v{n}")
    for event in schemas.event_types()
    for n, schema in enumerate(schemas.versions(event), 1)
]
RECORDS_PER_SCHEMA = 400
EXACT = decimal.Context(prec=100)
ALPHABETS = [
    string.ascii_letters + string.digits + " -_.@",
    string.ascii_letters + "äöüßéèçñÅØ€£¥",  # two and three bytes
    "中文字符日本語한국어",
    "a😀🚀👍🏽𝄞",  # four bytes, surrogate pairs in other languages
    "\x00\t\n\"'\\",
]


def fastavro_bytes(schema: Any, value: Any) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, schema, value)
    return out.getvalue()


def fastavro_value(schema: Any, data: bytes) -> Any:
    return fastavro.schemaless_reader(io.BytesIO(data), schema, None)


def assert_identical(got: Any, expected: Any, path: str = "") -> None:
    """Equal, and of the same type all the way down (Decimal exponent, tzinfo object too)."""
    assert type(got) is type(expected), f"{path}: {type(got)} != {type(expected)}"
    if isinstance(expected, dict):
        assert list(got) == list(expected), path
        for key in expected:
            assert_identical(got[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert len(got) == len(expected), path
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            assert_identical(g, e, f"{path}[{i}]")
    elif isinstance(expected, float):
        assert struct.pack("<d", got) == struct.pack("<d", expected), path
    elif isinstance(expected, Decimal):
        assert got.as_tuple() == expected.as_tuple(), path
    elif isinstance(expected, dt.datetime):
        assert got == expected and got.tzinfo is expected.tzinfo, path
    else:
        assert got == expected, path


class Values:
    """Seeded random valid values for an Avro schema (JSON form), edge cases over-represented:
    None branches, unicode, negative and 64-bit numbers, varints of every width, decimals at
    (and below) the schema's scale, dates and instants from year 1 to 9999."""

    def __init__(self, seed: int | str) -> None:
        self.rnd = random.Random(seed)
        self.named: dict[str, Any] = {}

    def __call__(self, schema: Any, namespace: str = "") -> Any:
        rnd = self.rnd
        if isinstance(schema, list):
            return self(rnd.choice(schema), namespace)
        if isinstance(schema, str):
            if schema in self.PRIMITIVES:
                return self.PRIMITIVES[schema](self)
            full = schema if "." in schema or not namespace else f"{namespace}.{schema}"
            return self(self.named.get(full, self.named.get(schema)), namespace)
        kind, logical = schema["type"], schema.get("logicalType")
        if kind in ("record", "enum", "fixed"):
            ns = schema.get("namespace", namespace)
            name = schema["name"] if "." in schema["name"] or not ns else f"{ns}.{schema['name']}"
            self.named[name] = schema
            namespace = name.rpartition(".")[0]
        if logical == "decimal":
            return self.decimal(schema["precision"], schema.get("scale", 0))
        if logical == "date":
            return self.date()
        if logical in ("timestamp-millis", "timestamp-micros"):
            return self.instant()
        if logical == "uuid":
            return uuid.UUID(int=rnd.getrandbits(128)) if rnd.random() < 0.5 else str(uuid.uuid4())
        if logical == "time-millis":
            return dt.time(
                rnd.randrange(24), rnd.randrange(60), rnd.randrange(60), 1000 * rnd.randrange(1000)
            )
        if logical == "time-micros":
            return dt.time(
                rnd.randrange(24), rnd.randrange(60), rnd.randrange(60), rnd.randrange(10**6)
            )
        if kind == "record":
            value = {}
            for field in schema["fields"]:
                if "default" in field and rnd.random() < 0.1:
                    continue  # fastavro and the writer then use the default
                value[field["name"]] = self(field["type"], namespace)
            return value
        if kind == "enum":
            return rnd.choice(schema["symbols"])
        if kind == "fixed":
            return rnd.randbytes(schema["size"])
        if kind == "array":
            return [self(schema["items"], namespace) for _ in range(self.count())]
        if kind == "map":
            return {self.text(): self(schema["values"], namespace) for _ in range(self.count())}
        return self(kind, namespace)

    def count(self) -> int:
        rnd = self.rnd
        return 70 if rnd.random() < 0.03 else rnd.choice([0, 1, 2, 5])  # 70: a two-byte count

    def integer(self, bits: int) -> int:
        rnd, top = self.rnd, 2 ** (bits - 1)
        edges = [0, -1, 1, 63, -64, 64, -65, 8191, -8192, 8192, -8193, top - 1, -top]
        if rnd.random() < 0.3:
            return rnd.choice(edges)
        width = rnd.randrange(1, bits)  # every varint width
        return rnd.randrange(-(2 ** (width - 1)), 2 ** (width - 1))

    def text(self) -> str:
        rnd = self.rnd
        n = rnd.choice([0, 1, 5, 20, 31, 32, 33, 63, 64, 65, 200])  # lengths about 64 and 8192
        n = rnd.choice([4095, 4096, 4097, 9000]) if rnd.random() < 0.01 else n
        return "".join(rnd.choices(rnd.choice(ALPHABETS), k=n))

    def decimal(self, precision: int, scale: int) -> Decimal:
        rnd = self.rnd
        digits = rnd.choice([1, 2, scale + 1, precision, rnd.randint(1, precision)])
        unscaled = rnd.randrange(10 ** (digits - 1) if digits > 1 else 0, 10**digits)
        if rnd.random() < 0.4:
            unscaled = -unscaled
        value = Decimal(unscaled).scaleb(-scale, EXACT)
        if rnd.random() < 0.2:  # fewer places than the scale is valid too
            places = Decimal(1).scaleb(-rnd.randint(0, scale))
            value = value.quantize(places, rounding="ROUND_DOWN", context=EXACT)
        return value

    def date(self) -> dt.date:
        rnd = self.rnd
        if rnd.random() < 0.7:
            return dt.date(2026, 1, 1) + dt.timedelta(days=rnd.randrange(-400, 400))
        return dt.date.fromordinal(rnd.randrange(1, dt.date.max.toordinal() + 1))

    def instant(self) -> dt.datetime:
        rnd = self.rnd
        if rnd.random() < 0.7:
            base = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
            delta = dt.timedelta(microseconds=rnd.randrange(-(10**14), 10**14))
            return base + delta
        lo = dt.datetime(1, 1, 2, tzinfo=dt.UTC)
        span = (dt.datetime(9999, 12, 30, tzinfo=dt.UTC) - lo) // dt.timedelta(microseconds=1)
        return lo + dt.timedelta(microseconds=rnd.randrange(span))

    def floating(self) -> float:
        rnd = self.rnd
        special = [0.0, -0.0, math.inf, -math.inf, math.nan, 1.5, -2.25, 1e-300, 3.4e38]
        return rnd.choice(special) if rnd.random() < 0.3 else rnd.uniform(-1e6, 1e6)

    PRIMITIVES: dict[str, Callable[[Values], Any]] = {
        "null": lambda self: None,
        "boolean": lambda self: self.rnd.random() < 0.5,
        "int": lambda self: self.integer(32),
        "long": lambda self: self.integer(64),
        "float": lambda self: self.floating(),
        "double": lambda self: self.floating(),
        "bytes": lambda self: self.rnd.randbytes(self.rnd.choice([0, 1, 10, 63, 64, 300])),
        "string": lambda self: self.text(),
    }


def assert_codecs_match_fastavro(schema: Any, values: list[Any]) -> None:
    read, write = compile_reader(schema), compile_writer(schema)
    assert read is not None and write is not None
    schema = fastavro.parse_schema(schema)  # once: fastavro takes it parsed or not
    for value in values:
        expected = fastavro_bytes(schema, value)
        assert write(value) == expected, value
        assert write(value, b"\x00head") == b"\x00head" + expected
        assert_identical(read(expected), fastavro_value(schema, expected))
        assert_identical(read(b"\x00head" + expected, 5), fastavro_value(schema, expected))


@pytest.mark.parametrize("schema", SCHEMA_VERSIONS)
def test_every_event_schema_version_encodes_and_decodes_exactly_like_fastavro(schema):
    values = Values(f"{schema['name']}-{len(schema['fields'])}")
    assert_codecs_match_fastavro(schema, [values(schema) for _ in range(RECORDS_PER_SCHEMA)])


@pytest.mark.parametrize("schema", SCHEMA_VERSIONS)
def test_records_sharing_timestamps_dates_and_prices_decode_the_same_each_time(schema):
    """The memo of decoded timestamps, dates and decimals hands back equal values."""
    values = Values(f"repeats-{schema['name']}")
    records = [values(schema) for _ in range(20)]
    assert_codecs_match_fastavro(schema, records * 3)


EVERY_TYPE = {
    "type": "record",
    "name": "EveryType",
    "namespace": "test.codegen",
    "fields": [
        {"name": "null", "type": "null"},
        {"name": "flag", "type": "boolean"},
        {"name": "i", "type": "int"},
        {"name": "l", "type": "long"},
        {"name": "f", "type": "float"},
        {"name": "d", "type": "double"},
        {"name": "raw", "type": "bytes"},
        {"name": "s", "type": {"type": "string"}},
        {"name": "hash", "type": {"type": "fixed", "name": "Hash", "size": 4}},
        {"name": "hash2", "type": "Hash"},
        {"name": "colour", "type": {"type": "enum", "name": "Colour", "symbols": ["R", "G", "B"]}},
        {"name": "ints", "type": {"type": "array", "items": "long"}},
        {
            "name": "nested",
            "type": {"type": "array", "items": {"type": "array", "items": "string"}},
        },
        {"name": "tags", "type": {"type": "map", "values": ["null", "double"]}},
        {
            "name": "inner",
            "type": {
                "type": "record",
                "name": "Inner",
                "fields": [
                    {"name": "a", "type": ["null", "Colour"], "default": None},
                    {"name": "b", "type": "string", "default": "dflt"},
                    {"name": "c", "type": ["string", "null"]},
                ],
            },
        },
        {"name": "inners", "type": {"type": "array", "items": "Inner"}},
        {"name": "maybe_inner", "type": ["null", "Inner"]},
        {"name": "mixed", "type": ["null", "string", "long", "boolean", "bytes", "double"]},
        {"name": "int_or_long", "type": ["int", "long"]},
        {"name": "rec_or_str", "type": ["string", "Inner"]},
        {
            "name": "dec_fixed",
            "type": {
                "type": "fixed",
                "name": "Money",
                "size": 8,
                "logicalType": "decimal",
                "precision": 16,
                "scale": 3,
            },
        },
        {
            "name": "dec",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 30, "scale": 0},
        },
        {"name": "uuid", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "tm", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "tu", "type": {"type": "long", "logicalType": "time-micros"}},
        {"name": "tsu", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "maybe_ts", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}]},
        {"name": "unknown_logical", "type": {"type": "string", "logicalType": "colour-name"}},
    ],
}


def test_every_avro_type_and_logical_type_matches_fastavro_not_only_those_the_events_use():
    values = Values("every-type")
    assert_codecs_match_fastavro(EVERY_TYPE, [values(EVERY_TYPE) for _ in range(400)])


def test_unions_pick_the_branch_fastavro_picks():
    schema = {
        "type": "record",
        "name": "U",
        "fields": [
            {"name": "a", "type": ["null", "double", "long"]},
            {"name": "b", "type": ["long", "double"]},
            {"name": "c", "type": ["int", "long", "string"]},
            {"name": "d", "type": ["boolean", "int"]},
        ],
    }
    cases = [
        {"a": 3, "b": 3, "c": 3, "d": True},
        {"a": 2.5, "b": 2.5, "c": 2**40, "d": 7},
        {"a": None, "b": -(2**63), "c": "x", "d": False},
    ]
    assert_codecs_match_fastavro(schema, cases)


# --- what the writer accepts -------------------------------------------------------------------


class Path(enum.StrEnum):
    HTTP = "HTTP"
    KAFKA = "KAFKA"


class Quantity(enum.IntEnum):
    TWELVE = 12


def sell_through(**overrides: Any) -> dict[str, Any]:
    now = dt.datetime(2026, 11, 2, 9, 30, 12, 345678, tzinfo=dt.UTC)
    value = {
        "metadata": {
            "event_id": str(uuid.uuid4()),
            "occurred_at": dt.datetime(2026, 10, 28, tzinfo=dt.UTC),
            "recorded_at": now,
            "producer": "sellthrough",
            "correlation_id": "upload-1",
            "causation_id": None,
            "trace_id": "0af7651916cd43dd8448eb211c80319c",
        },
        "report_id": "RPT-1",
        "line_no": 1234,
        "distributor_id": "DIST-1",
        "reseller_id": "RES-1",
        "sku": "SKU-1",
        "product_line": None,
        "quantity": -3,
        "unit_price": Decimal("-19.9900"),
        "currency": "EUR",
        "sold_on": dt.date(2026, 10, 28),
        "end_customer_name": "Müller GmbH",
        "end_customer_country": "DE",
        "deal_id": None,
        "upload_id": "u-1",
        "ingestion_path": "HTTP",
        "submitted_by": "alice",
        "raw_line": "x" * 300,
        "line_hash": "ab" * 32,
        "end_customer_domain": None,
    }
    for key, new in overrides.items():
        if key in value["metadata"]:
            value["metadata"][key] = new
        else:
            value[key] = new
    return value


LATEST = schemas.latest("SellThroughReported")
BERLIN = dt.timezone(dt.timedelta(hours=1), "CET")


@pytest.mark.parametrize(
    "overrides",
    [
        {"recorded_at": dt.datetime(2026, 11, 2, 9, 30, 12, 345678)},  # naive: local time
        {"recorded_at": dt.datetime(1969, 7, 20, 20, 17, 40)},
        {"recorded_at": dt.datetime(2026, 11, 2, 10, 30, tzinfo=BERLIN)},
        {"recorded_at": dt.datetime(1900, 1, 1, 0, 0, 0, 999, tzinfo=dt.UTC)},
        {"recorded_at": 1_762_075_812_345},  # epoch milliseconds
        {"sold_on": dt.datetime(2026, 10, 28, 23, 59)},  # a datetime is a date
        {"sold_on": "2026-10-28"},  # fastavro parses ISO dates
        {"sold_on": 20_389},  # days since the epoch
        {"unit_price": Decimal("19.99")},  # fewer places than the scale
        {"unit_price": Decimal("-0.0000")},
        {"unit_price": Decimal("99999999999999.9999")},  # 18 digits, the precision
        {"unit_price": Decimal("-128E-4")},  # a power of two: the size fastavro gives it
        {"unit_price": Decimal("1E+2")},
        {"unit_price": b"\x01\x02"},  # raw bytes are written as they are
        {"ingestion_path": Path.KAFKA, "currency": Path.HTTP},
        {"quantity": Quantity.TWELVE, "line_no": 2**62},
        {"deal_id": Path.HTTP},  # a str subclass in a union
    ],
    ids=repr,
)
def test_the_writer_takes_the_input_types_fastavro_takes(overrides):
    value = sell_through(**overrides)
    write = compile_writer(LATEST)
    assert write is not None
    assert write(value) == fastavro_bytes(LATEST, value)


def test_naive_datetimes_are_local_time_as_in_fastavro_not_utc(monkeypatch):
    monkeypatch.setenv("TZ", "EST+5EDT,M3.2.0/2,M11.1.0/2")  # a POSIX rule: no tz database
    time.tzset()
    try:
        naive = dt.datetime(2026, 7, 1, 12, 0, 0, 999)
        value = sell_through(recorded_at=naive, occurred_at=dt.datetime(2026, 1, 1))
        write, read = compile_writer(LATEST), compile_reader(LATEST)
        assert write is not None and read is not None
        data = write(value)
        assert data == fastavro_bytes(LATEST, value)
        recorded = read(data)["metadata"]["recorded_at"]
        assert recorded == dt.datetime(2026, 7, 1, 16, 0, tzinfo=dt.UTC)  # EDT is UTC-4
    finally:
        monkeypatch.undo()
        time.tzset()


def test_fields_with_defaults_may_be_left_out():
    value = sell_through()
    del value["end_customer_domain"], value["deal_id"], value["metadata"]["trace_id"]
    write = compile_writer(LATEST)
    assert write is not None
    assert write(value) == fastavro_bytes(LATEST, value)


@pytest.mark.parametrize(
    "overrides",
    [
        {"report_id": None},
        {"report_id": 7},
        {"line_no": "12"},
        {"line_no": 2**63},
        {"product_line": 5},  # a union of null and string
        {"unit_price": Decimal("1.00001")},  # more places than the scale
        {"unit_price": Decimal("1.000000")},  # even zeros
        {"unit_price": Decimal("1234567890123456.789")},  # more digits than the precision
        {"unit_price": Decimal("NaN")},
        {"unit_price": 1.5},
        {"ingestion_path": "FAX"},
        {"sold_on": "yesterday"},
        {"recorded_at": "2026-11-02"},
        {"recorded_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC).time()},
        {"metadata": None},
        {"metadata": {"event_id": "e"}},
    ],
    ids=repr,
)
def test_the_writer_refuses_what_fastavro_refuses(overrides):
    value = sell_through(**overrides)
    write = compile_writer(LATEST)
    assert write is not None
    with pytest.raises(Exception):  # noqa: B017 - fastavro's own types vary
        fastavro_bytes(LATEST, value)
    with pytest.raises((TypeError, ValueError, KeyError, OverflowError)):
        write(value)


def test_a_missing_required_field_is_refused():
    value = sell_through()
    del value["sku"]
    write = compile_writer(LATEST)
    assert write is not None
    with pytest.raises(KeyError):
        write(value)
    with pytest.raises(ValueError, match="no value and no default"):
        fastavro_bytes(LATEST, value)


@pytest.mark.parametrize(
    "overrides",
    [
        {"line_no": 12.7},  # fastavro truncates it
        {"quantity": True},
        {"quantity": 2**31},  # an Avro int is 32 bits; fastavro writes 64
        {"deal_id": ("string", "D-1")},  # fastavro's tuple notation for a union branch
    ],
    ids=repr,
)
def test_inputs_fastavro_merely_coerces_are_refused_by_the_writer_and_left_to_fastavro(overrides):
    value = sell_through(**overrides)
    write = compile_writer(LATEST)
    assert write is not None
    fastavro_bytes(LATEST, value)  # fastavro takes it
    with pytest.raises((TypeError, OverflowError)):
        write(value)


class Encodable:
    """Not a str, but fastavro writes it as a string outside a union (it has `encode`)."""

    def encode(self) -> bytes:
        return b"enc"


UNION_NESTED = {
    "type": "record",
    "name": "Outer",
    "fields": [
        {"name": "plain", "type": "string"},
        {
            "name": "maybe",
            "type": [
                "null",
                {
                    "type": "record",
                    "name": "Nested",
                    "fields": [
                        {"name": "s", "type": "string"},
                        {"name": "nothing", "type": "null"},
                    ],
                },
            ],
        },
    ],
}


def test_outside_a_union_the_writer_takes_what_fastavro_writes_unvalidated():
    value = {"plain": Encodable(), "maybe": None}
    write = compile_writer(UNION_NESTED)
    assert write is not None
    assert write(value) == fastavro_bytes(UNION_NESTED, value)


@pytest.mark.parametrize(
    "maybe",
    [{"s": Encodable(), "nothing": None}, {"s": "x", "nothing": 0}, {"s": "x", "-type": "Other"}],
    ids=["not-a-str", "not-none", "other-type-name"],
)
def test_inside_a_union_the_writer_refuses_what_fastavro_validation_refuses(maybe):
    value = {"plain": "p", "maybe": maybe}
    write = compile_writer(UNION_NESTED)
    assert write is not None
    with pytest.raises(ValueError, match="do not match"):
        fastavro_bytes(UNION_NESTED, value)
    with pytest.raises(TypeError):
        write(value)


# --- what the reader refuses -------------------------------------------------------------------


def test_every_truncation_of_a_record_is_refused():
    read = compile_reader(LATEST)
    assert read is not None
    data = fastavro_bytes(LATEST, sell_through(product_line="networking", deal_id="D-1"))
    for end in range(len(data)):
        with pytest.raises((EOFError, ValueError, UnicodeDecodeError)):
            read(data[:end])


def test_a_byte_after_the_record_is_refused():
    read = compile_reader(LATEST)
    assert read is not None
    data = fastavro_bytes(LATEST, sell_through())
    with pytest.raises(ValueError, match="1 trailing bytes"):
        read(data + b"\x00")


def _union_index_offset(schema: Any, field: str, value: dict[str, Any]) -> tuple[bytes, int]:
    """A record's bytes and the offset of its union index for `field` (set to null)."""
    with_null = fastavro_bytes(schema, {**value, field: None})
    with_value = fastavro_bytes(schema, {**value, field: "x"})
    offset = next(i for i, (a, b) in enumerate(zip(with_null, with_value, strict=False)) if a != b)
    return with_null, offset


@pytest.mark.parametrize(("index_byte", "index"), [(b"\x04", 2), (b"\x01", -1), (b"\x7f", -64)])
def test_a_union_index_outside_the_union_is_refused(index_byte, index):
    read = compile_reader(LATEST)
    assert read is not None
    data, offset = _union_index_offset(LATEST, "deal_id", sell_through())
    assert data[offset] == 0
    bad = data[:offset] + index_byte + data[offset + 1 :]
    with pytest.raises(ValueError, match=f"union index {index} out of range 0..1 at .*deal_id"):
        read(bad)


SMALL = {
    "type": "record",
    "name": "Small",
    "fields": [
        {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B", "C"]}},
        {"name": "s", "type": "string"},
        {"name": "n", "type": "long"},
    ],
}


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        (b"\x06\x00\x00", ValueError, "enum index 3 out of range 0..2"),
        (b"\x01\x00\x00", ValueError, "enum index -1 out of range"),  # fastavro reads "C"
        (b"\x80\x80\x01\x00\x00", ValueError, "enum index 8192 out of range"),
        (b"\x00\x03\x00", ValueError, "negative length -2"),
        (b"\x00\xff\x01\x00", ValueError, "negative length -128"),
        (b"\x00\x04\xff\xfe\x00", UnicodeDecodeError, "utf-8"),
        (b"\x00\x04ab", EOFError, "truncated"),  # the long is missing
        (b"\x00\x0aab\x00", EOFError, "truncated"),  # the string runs past the end
        (b"\x00\x00" + b"\xff" * 10 + b"\x01", ValueError, "longer than 10 bytes"),
        (b"\x00\x00" + b"\xff" * 9 + b"\x7f", ValueError, "wider than 64 bits"),
        (b"\x00\x00\x00\x00", ValueError, "1 trailing bytes"),
        (b"", EOFError, "truncated"),
    ],
)
def test_malformed_input_is_refused_with_a_clear_error(data, error, message):
    read = compile_reader(SMALL)
    assert read is not None
    with pytest.raises(error, match=message):
        read(data)


def test_non_minimal_varints_read_as_fastavro_reads_them():
    read = compile_reader(SMALL)
    assert read is not None
    data = b"\x82\x00\x84\x00ab\x80\x80\x00"  # B, "ab", 0, each varint padded
    assert read(data) == fastavro_value(SMALL, data) == {"e": "B", "s": "ab", "n": 0}


def test_arrays_in_blocks_with_byte_sizes_read_as_fastavro_reads_them():
    schema = {
        "type": "record",
        "name": "A",
        "fields": [{"name": "a", "type": {"type": "array", "items": "long"}}],
    }
    read = compile_reader(schema)
    assert read is not None
    data = b"\x03\x04\x02\x04\x01\x02\x06\x00"  # blocks of -2 items (2 bytes), -1 (1 byte), 0
    assert read(data) == fastavro_value(schema, data) == {"a": [1, 2, 3]}
    with pytest.raises(EOFError, match="longer than the record"):
        read(b"\xfe\xff\xff\xff\x0f\x00")  # 2**31 - 1 items promised, none there


def test_a_bytearray_or_memoryview_reads_like_bytes():
    read = compile_reader(LATEST)
    assert read is not None
    data = fastavro_bytes(LATEST, sell_through())
    assert read(bytearray(data)) == read(memoryview(data)) == fastavro_value(LATEST, data)


# --- what is left to fastavro ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "readable"),
    [
        (
            {
                "type": "record",
                "name": "Node",
                "fields": [{"name": "next", "type": ["null", "Node"]}],
            },
            False,
        ),
        (
            {"type": "record", "name": "F", "fields": [{"name": "x", "type": ["float", "double"]}]},
            True,
        ),
        (
            {
                "type": "record",
                "name": "TwoRecords",
                "fields": [
                    {
                        "name": "x",
                        "type": [
                            {
                                "type": "record",
                                "name": "P",
                                "fields": [{"name": "a", "type": "int"}],
                            },
                            {
                                "type": "record",
                                "name": "Q",
                                "fields": [{"name": "b", "type": "int"}],
                            },
                        ],
                    }
                ],
            },
            True,
        ),
        ({"type": "record", "name": "Broken", "fields": [{"name": "x", "type": "Nowhere"}]}, False),
        ("string", False),
    ],
    ids=["recursive", "float-and-double-union", "union-of-records", "unknown-type", "not-a-record"],
)
def test_constructs_the_generator_does_not_handle_leave_the_schema_to_fastavro(schema, readable):
    """Reading a union is never ambiguous; writing one where fastavro picks the branch by deep
    validation (the record with the most fields, double over float) is left to it."""
    assert (compile_reader(schema) is not None) == readable
    assert compile_writer(schema) is None


# --- AvroSerde with the generated codecs ------------------------------------------------------


class FakeRegistry:
    """The two registry calls decoding makes, from a table of schema ids."""

    def __init__(self, by_id: dict[int, dict[str, Any]]) -> None:
        self.by_id = by_id

    async def register(self, subject: str, schema: dict[str, Any]) -> int:
        return next(i for i, known in self.by_id.items() if known == schema)

    async def get_by_id(self, schema_id: int) -> Any:
        schema = self.by_id.get(schema_id)
        return None if schema is None else type("Found", (), {"raw_schema": copy.deepcopy(schema)})


V1, V2 = schemas.versions("SellThroughReported")


def avro_serde() -> serde.AvroSerde:
    s = serde.AvroSerde("http://registry.invalid")
    s.client = FakeRegistry({1: V1, 2: V2})  # type: ignore[assignment]
    return s


def framed(schema_id: int, body: bytes) -> bytes:
    return b"\x00" + schema_id.to_bytes(4, "big") + body


async def test_serde_encodes_the_bytes_fastavro_encodes():
    s = avro_serde()
    values = [sell_through(line_no=n, deal_id=None if n % 2 else f"D-{n}") for n in range(50)]
    expected = [framed(2, fastavro_bytes(V2, v)) for v in values]
    assert [await s.encode(SELL_THROUGH_REPORTED, v) for v in values] == expected
    assert s.encode_many(2, SELL_THROUGH_REPORTED, values) == expected


async def test_serde_leaves_values_the_generated_writer_refuses_to_fastavro():
    s = avro_serde()
    coerced = sell_through(line_no=12.0, quantity=True)
    assert s.encode_with(2, SELL_THROUGH_REPORTED, coerced) == framed(
        2, fastavro_bytes(V2, coerced)
    )
    assert s.encode_many(2, SELL_THROUGH_REPORTED, [coerced]) == [
        framed(2, fastavro_bytes(V2, coerced))
    ]
    with pytest.raises(ValueError, match="no value and no default for sku"):
        s.encode_with(
            2, SELL_THROUGH_REPORTED, {k: v for k, v in sell_through().items() if k != "sku"}
        )


async def test_serde_decodes_records_of_the_latest_schema_without_fastavro(monkeypatch):
    s = avro_serde()
    value = sell_through(deal_id="D-9", end_customer_domain="mueller.de")
    payload = framed(2, fastavro_bytes(V2, value))
    expected = fastavro_value(V2, payload[5:])

    def no_fastavro(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("fastavro read a record of the latest schema")

    monkeypatch.setattr(serde.fastavro, "schemaless_reader", no_fastavro)
    assert_identical(await s.decode(SELL_THROUGH_REPORTED, payload), expected)
    assert_identical(s.decode_cached(SELL_THROUGH_REPORTED, payload), expected)


async def test_serde_still_resolves_records_of_an_older_schema_with_fastavro():
    s = avro_serde()
    value = sell_through()
    del value["end_customer_domain"]
    decoded = await s.decode(SELL_THROUGH_REPORTED, framed(1, fastavro_bytes(V1, value)))
    assert decoded["end_customer_domain"] is None
    assert decoded["unit_price"] == value["unit_price"]


@pytest.mark.parametrize("schema_id", [1, 2])
async def test_serde_reports_undecodable_records_as_decode_errors(schema_id):
    s = avro_serde()
    body = fastavro_bytes(V2 if schema_id == 2 else V1, sell_through())
    await s.decode(SELL_THROUGH_REPORTED, framed(schema_id, body))
    for bad in (body[:-3], body + b"\x00", b"\x07" + body[1:]):
        with pytest.raises(serde.DecodeError, match=r"^undecodable Avro for sellthrough\."):
            s.decode_cached(SELL_THROUGH_REPORTED, framed(schema_id, bad))
    with pytest.raises(serde.DecodeError, match="schema id 3 is not in the registry"):
        await s.decode(SELL_THROUGH_REPORTED, framed(3, body))
    with pytest.raises(serde.DecodeError, match="unknown magic byte 1"):
        s.decode_cached(SELL_THROUGH_REPORTED, b"\x01" + framed(2, body)[1:])
