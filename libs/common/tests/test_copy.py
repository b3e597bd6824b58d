from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from enum import Enum, IntEnum, StrEnum
from typing import Any

import psycopg
import pytest
from channelstream_common import copy as copy_module
from channelstream_common import testing
from channelstream_common.copy import copy_text, write_rows
from channelstream_common.testing import create_database

STRINGS = [
    "",
    "plain",
    "tab\there",
    "new\nline",
    "carriage\rreturn",
    "back\\slash",
    "\\N",
    "\\.",
    "\\x00",
    "quotes \" and ' and {braces},",
    "unicode é ß 中文 🎉",
    "separators \x1e\x1f and \x07",
    "NULL",
]
DECIMALS = [
    Decimal("0"),
    Decimal("-0.00"),
    Decimal("-12.3400"),
    Decimal("123456789012345678.1234"),
    Decimal("-0.000001"),
    Decimal("1E+3"),
    Decimal("-1.5E-7"),
    Decimal("Infinity"),
    Decimal("-Infinity"),
]
COLUMNS = "id, t, i, b, f, d, day, ts, tm, tmz, by"
TABLE = """create table roundtrip (
    id integer, t text, i bigint, b boolean, f double precision, d numeric, day date,
    ts timestamptz, tm time, tmz timetz, by bytea
)"""


class Colour(StrEnum):
    RED = "red"


class Size(IntEnum):
    LARGE = 3


class Plain(Enum):
    A = "a"


def test_fields_are_tab_separated_rows_newline_terminated_and_none_is_backslash_n() -> None:
    assert copy_text([("a", 1, None), (None, "b", 2)]) == "a\t1\t\\N\n\\N\tb\t2\n"


def test_backslash_tab_newline_and_carriage_return_are_escaped_in_strings() -> None:
    assert copy_text([("a\\b\tc\nd\re",)]) == "a\\\\b\\tc\\nd\\re\n"


def test_bools_are_t_and_f_not_integers() -> None:
    assert copy_text([(True, False, 1, 0)]) == "t\tf\t1\t0\n"


def test_bytes_are_bytea_hex_with_the_backslash_escaped() -> None:
    expected = "\\\\x00ff\n"
    assert copy_text([(b"\x00\xff",)]) == copy_text([(bytearray(b"\x00\xff"),)]) == expected
    assert copy_text([(memoryview(b"\x00\xff"),)]) == expected


def test_enums_mixed_with_str_or_int_format_as_their_value_as_psycopg_dumps_them() -> None:
    assert copy_text([(Colour.RED, Size.LARGE)]) == "red\t3\n"


def test_a_type_it_does_not_format_raises_type_error() -> None:
    for value in (Plain.A, ["a"], ("a", "b"), timedelta(days=1), object()):
        with pytest.raises(TypeError):
            copy_text([("ok", value)])


def test_a_string_with_nul_raises_type_error_so_write_row_reports_it() -> None:
    with pytest.raises(TypeError):
        copy_text([("a\x00b",)])


def test_columns_mixing_types_and_none_format_value_by_value() -> None:
    rows = [("a", 1, Colour.RED, None), (None, None, "b\t", 2.5), ("c", True, None, Decimal("1"))]
    assert copy_text(rows) == "a\t1\tred\t\\N\n\\N\t\\N\tb\\t\t2.5\nc\tt\t\\N\t1\n"


def _rows() -> list[tuple[Any, ...]]:
    plus_5_30 = timezone(timedelta(hours=5, minutes=30))
    stamps = [
        datetime(2026, 11, 23, 4, 5, 6, 789012, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, tzinfo=plus_5_30),
        datetime(2026, 3, 1, 0, 0, tzinfo=timezone(timedelta(hours=-8))),
    ]
    days = [date(2026, 11, 23), date(1, 1, 1), date(9999, 12, 31)]
    times = [time(0, 0), time(23, 59, 59, 999999), time(12, 30, 1, 5)]
    ints = [0, -(2**63), 2**63 - 1, -1]
    floats = [0.1, -1e300, 5e-324, float("inf"), -float("inf"), 1.0]
    every_byte = bytes(range(256))
    rows = []
    for n, text in enumerate(STRINGS):
        rows.append(
            (
                n,
                text,
                ints[n % len(ints)],
                n % 2 == 0,
                floats[n % len(floats)],
                DECIMALS[n % len(DECIMALS)],
                days[n % len(days)],
                stamps[n % len(stamps)],
                times[n % len(times)],
                times[n % len(times)].replace(tzinfo=plus_5_30),
                every_byte if n % 2 else every_byte[::-1] + text.encode(),
            )
        )
    rows.append((len(rows), *[None] * 10))
    return rows


@pytest.fixture
async def conn(endpoints: testing.Endpoints) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """A connection to a throwaway database on the stack (the `endpoints` fixture)."""
    name = f"test_copy_{uuid.uuid4().hex[:8]}"
    url = create_database(endpoints.postgres, name).replace(
        "postgresql+psycopg://", "postgresql://"
    )
    try:
        async with await psycopg.AsyncConnection.connect(url) as connection:
            yield connection
    finally:
        testing.drop_database(endpoints.postgres, name)


async def _copied(
    conn: psycopg.AsyncConnection[Any], rows: list[tuple[Any, ...]], batch: int = 1000
) -> list[Any]:
    async with conn.cursor() as cur:
        await cur.execute(TABLE)
        async with cur.copy(f"copy roundtrip ({COLUMNS}) from stdin") as copy:
            await write_rows(copy, rows, batch=batch)
        await cur.execute(f"select {COLUMNS} from roundtrip order by id")
        return await cur.fetchall()


@pytest.mark.parametrize("batch", [1000, 4])  # whole columns; short ones, some all None
async def test_every_supported_type_comes_back_from_postgresql_as_it_went_in(
    conn: psycopg.AsyncConnection[Any], batch: int
) -> None:
    rows = _rows()
    assert await _copied(conn, rows, batch) == rows


async def test_decimals_keep_their_sign_and_scale_and_nan_comes_back_nan(
    conn: psycopg.AsyncConnection[Any],
) -> None:
    rows = [(n, *[None] * 4, d, *[None] * 5) for n, d in enumerate([*DECIMALS, Decimal("NaN")])]
    back = await _copied(conn, rows)
    assert [r[5] for r in back[:-1]] == DECIMALS
    assert [str(r[5]) for r in back[2:5]] == ["-12.3400", "123456789012345678.1234", "-0.000001"]
    assert back[-1][5].is_nan()


async def test_rows_it_cannot_format_go_by_write_row_and_the_order_is_kept(
    conn: psycopg.AsyncConnection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(copy_module, "CHUNK", 100)  # several blocks before the fallback
    rows: list[tuple[Any, ...]] = [(n, f"row {n}") for n in range(50)]
    rows[30] = (30, Plain.A)  # psycopg dumps a plain Enum by its name
    async with conn.cursor() as cur:
        await cur.execute("create table fallback (id serial, n integer, t text)")
        async with cur.copy("copy fallback (n, t) from stdin") as copy:
            await write_rows(copy, iter(rows))
        await cur.execute("select n, t from fallback order by id")
        back = await cur.fetchall()
    assert back == [(n, "A" if n == 30 else f"row {n}") for n in range(50)]
