"""Rows as PostgreSQL COPY text, formatted a column at a time and written in ~1 MB blocks.

psycopg's text-format `Copy.write_row` looks up and calls a dumper for every value of every row
(the top leaf of the incentives profile). Here a column whose values are all of one type (or
that type and None) is formatted by one C-level `map` (strings: one escape of the joined
column), rows are assembled by `str.join`, and any other value goes through a per-type dict.
Measured on 50 000 incentives accrual rows: 1.1-1.4x (median ~1.25x) less client CPU than
`write_row`, server CPU unchanged. Analytics keeps its binary COPY (`set_types`): no consistent
client gain there, and PostgreSQL reads binary for less.

A value of a type not handled here (a plain Enum, a list, a tuple, a timedelta...) raises
TypeError in `copy_text`; `write_rows` then hands those rows and the rest to `write_row`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

CHUNK = 1 << 20  # characters per `copy.write`
_NONE = type(None)


def _escape(text: str) -> str:
    """A string as a COPY text field: backslash, tab, newline and carriage return escaped."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _decimal(value: Decimal) -> str:
    return "NaN" if value.is_nan() else str(value)  # PostgreSQL has no sNaN nor -NaN


def _hex(value: bytes | bytearray | memoryview) -> str:
    return "\\\\x" + value.hex()  # bytea hex input, its backslash escaped for COPY


# value -> COPY text field, by exact type (bool has its own entry: never int's)
_FIELD: dict[type, Callable[[Any], str]] = {
    _NONE: lambda _: "\\N",
    str: _escape,
    bool: {True: "t", False: "f"}.__getitem__,
    int: int.__repr__,
    float: float.__repr__,
    Decimal: _decimal,  # exponent notation included: numeric input accepts it
    date: date.isoformat,
    datetime: datetime.isoformat,  # an aware one keeps its offset
    time: time.isoformat,
    bytes: _hex,
    bytearray: _hex,
    memoryview: _hex,
}


def _field(value: Any) -> str:
    """A value's field by its type or else its nearest base in `_FIELD` (a StrEnum or IntEnum
    formats as its str or int, as psycopg dumps it); TypeError when there is none."""
    cls = type(value)
    found = _FIELD.get(cls)
    if found is None:
        found = next((_FIELD[base] for base in cls.__mro__[1:] if base in _FIELD), None)
        if found is None:
            raise TypeError(f"no COPY text format for {cls.__qualname__}")
        _FIELD[cls] = found
    return found(value)


def _strings(values: Sequence[str], whole: str) -> Sequence[str]:
    """A column of strings (`whole`: them joined), escaped by one pass per special character."""
    if "\0" in whole:  # PostgreSQL text cannot hold it; here it is the separator
        raise TypeError("a string with NUL (0x00)")
    if len(_escape(whole)) == len(whole):  # the usual case: nothing to escape
        return values
    return _escape("\0".join(values)).split("\0")


def _dates(values: Sequence[date]) -> Iterable[str]:
    """Days repeat in a batch: each distinct one is formatted once. (Not datetimes or times:
    equal aware ones may differ in offset, so in text.)"""
    text = {v: v.isoformat() for v in set(values)}
    return map(text.__getitem__, values)


def _decimals(values: Sequence[Decimal]) -> Iterable[str]:
    return map(_decimal if any(map(Decimal.is_nan, values)) else str, values)


# a column of one exact type -> its fields
_COLUMN: dict[type, Callable[[Sequence[Any]], Iterable[str]]] = {
    str: lambda v: _strings(v, "".join(v)),
    int: lambda v: map(int.__repr__, v),
    Decimal: _decimals,
    date: _dates,
}


def _column(values: Sequence[Any]) -> Iterable[str]:
    try:  # strings first, with no type test: `join` refuses anything else
        whole = "".join(values)
    except TypeError:
        pass
    else:
        return _strings(values, whole)
    kinds = set(map(type, values))
    nullable = len(kinds) == 2 and _NONE in kinds
    if nullable:
        kinds.discard(_NONE)
    column = _COLUMN.get(kinds.pop()) if len(kinds) == 1 else None
    if column is None:
        return [_field(v) for v in values]
    if not nullable:
        return column(values)
    fields = iter(column([v for v in values if v is not None]))
    return [next(fields) if v is not None else "\\N" for v in values]


def copy_text(rows: Iterable[Sequence[Any]]) -> str:
    """`rows` in COPY text format: fields tab-separated, rows newline-terminated, None as \\N.
    Raises TypeError for a value of a type it does not format, and for rows of unequal length."""
    rows = rows if isinstance(rows, Sequence) else list(rows)
    lengths = set(map(len, rows))
    if len(lengths) != 1 or not lengths.pop():
        if not rows:
            return ""
        raise TypeError("rows of unequal length, or of no columns")
    columns = [_column(values) for values in zip(*rows, strict=True)]
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


async def write_rows(copy: Any, rows: Iterable[Sequence[Any]], *, batch: int = 1000) -> None:
    """Write `rows` to a psycopg text-format COPY (`async with cursor.copy(...) as copy`),
    formatted `batch` rows at a time, in blocks of about CHUNK characters. From a batch
    copy_text cannot format on, rows go one by one to `write_row` (which buffers them: no `write`
    may follow it, or the order would change)."""
    rows = rows if isinstance(rows, Sequence) else list(rows)
    block: list[str] = []
    size = 0
    for start in range(0, len(rows), batch):
        try:
            text = copy_text(rows[start : start + batch])
        except TypeError:
            if block:
                await copy.write("".join(block))
            for row in rows[start:]:
                await copy.write_row(row)
            return
        block.append(text)
        size += len(text)
        if size >= CHUNK:
            await copy.write("".join(block))
            block, size = [], 0
    if block:
        await copy.write("".join(block))
