"""Avro readers and writers specialised to one schema, generated as Python source and exec'd once.

fastavro walks the schema for every field of every record (about 1.2 µs a field either way). Code
generated once per schema, with the records inlined field by field, short varints handled in line
and strings sliced straight out of the buffer, does the same work 1.5-3 times as fast
(`python -m bench.codec`: 2.7-3.3x on records as a batch carries them, 1.5-2.5x when no two
timestamps, dates or amounts are equal).

What comes out is exactly fastavro's: the reader returns what ``schemaless_reader(..., None)``
returns (same values, same Python types), the writer the bytes ``schemaless_writer`` writes.
`compile_reader` and `compile_writer` return None for a construct they do not handle (recursive
types, unions whose branch fastavro picks by deep validation, ...), and the caller keeps fastavro.

Timestamps, dates and decimals cost most to convert, and the records of a batch share them: a
reader memoises the values it decoded by their encoded bytes, a writer the bytes of UTC datetimes
and dates by value (bounded dicts; the values are immutable, so sharing them is safe).

The reader rejects malformed input with an exception: truncation (EOFError), bytes left after the
record, a bad union or enum index, a negative length, a varint over 10 bytes or 64 bits, invalid
UTF-8. fastavro tolerates some of these (a negative enum index, trailing bytes).

The writer accepts the Python types fastavro accepts for valid records (str, int, float, bool,
bytes, Decimal, date, datetime, UUID, ...): aware datetimes and dates are converted in line, any
other logical-type input by fastavro's own converter (so a naive datetime is, as in fastavro, local
time of the process by mktime, not UTC; an ISO string is a date; an int passes). It raises on a
few inputs fastavro merely coerces (a float for a long, a truthy object for a boolean, tuple
notation for a union branch, an int too wide for an Avro int). A caller that must take all that
fastavro takes retries such a record with fastavro, as `AvroSerde` does, which also gives
fastavro's error for an invalid one.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Context, Decimal, InvalidOperation, Rounded
from numbers import Integral, Real
from typing import Any, Protocol

import fastavro
from fastavro.read import LOGICAL_READERS
from fastavro.write import LOGICAL_WRITERS

__all__ = ["Reader", "Writer", "compile_reader", "compile_writer"]


class Reader(Protocol):
    """Decodes one Avro record that starts at `pos` and ends exactly at the end of `buf`."""

    def __call__(self, buf: bytes, pos: int = 0, /) -> dict[str, Any]: ...


class Writer(Protocol):
    """Encodes one record; the result is `prefix` followed by the Avro bytes."""

    def __call__(self, value: Mapping[str, Any], prefix: bytes = b"", /) -> bytes: ...


class _Unsupported(Exception):
    """A construct the generator does not handle: the caller keeps fastavro for the schema."""


_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_DAYS_SHIFT = date(1970, 1, 1).toordinal()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_MILLI = timedelta(milliseconds=1)
_MICRO = timedelta(microseconds=1)
# fastavro's own converters as imported; the inline fast paths stand in for these only, not for
# a converter registered in their place
_BUILTIN_READERS = dict(LOGICAL_READERS)
_BUILTIN_WRITERS = dict(LOGICAL_WRITERS)
# logical types read or written in line (the others call fastavro's converter)
_INLINE_READ = {
    "long-timestamp-millis",
    "long-timestamp-micros",
    "long-local-timestamp-millis",
    "long-local-timestamp-micros",
    "int-date",
    "bytes-decimal",
    "fixed-decimal",
}
_INLINE_WRITE = {"long-timestamp-millis", "long-timestamp-micros", "int-date", "bytes-decimal"}
_CACHE_LIMIT = 4096
# logical types whose reads are memoised by their encoded bytes: the usual varint size (dates
# 1992-4840, millisecond times 1970-2039, microsecond times 1978-3111) and the conversion
_CACHED_READS = {
    "long-timestamp-millis": (6, "_EPOCH + _timedelta(0, 0, 0, {})"),
    "long-local-timestamp-millis": (6, "_EPOCH_NAIVE + _timedelta(0, 0, 0, {})"),
    "long-timestamp-micros": (8, "_EPOCH + _timedelta(0, 0, {})"),
    "long-local-timestamp-micros": (8, "_EPOCH_NAIVE + _timedelta(0, 0, {})"),
    "int-date": (3, f"_fromordinal({{}} + {_DAYS_SHIFT})"),
}


# --- runtime helpers the generated code calls (slow paths only) ---------------------------------


def _uvarint(buf: bytes, pos: int) -> tuple[int, int]:
    """The raw (still zig-zag encoded) varint at `pos` and the position after it."""
    n = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        if b < 0x80:
            break
        shift += 7
        if shift == 70:
            raise ValueError(f"varint longer than 10 bytes at offset {pos - 10}")
    if n >> 64:
        raise ValueError(f"varint wider than 64 bits at offset {pos}")
    return n, pos


def _read_long(buf: bytes, pos: int) -> tuple[int, int]:
    """The long at `pos` (`_uvarint` in line: a call costs as much as the loop)."""
    n = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        if b < 0x80:
            break
        shift += 7
        if shift == 70:
            raise ValueError(f"varint longer than 10 bytes at offset {pos - 10}")
    if n >> 64:
        raise ValueError(f"varint wider than 64 bits at offset {pos}")
    return (n >> 1) ^ -(n & 1), pos


def _read_length(buf: bytes, pos: int) -> tuple[int, int]:
    n, end = _read_long(buf, pos)
    if n < 0:
        raise ValueError(f"negative length {n} at offset {pos}")
    return n, end


def _bad_index(kind: str, raw: int, size: int, path: str) -> ValueError:
    index = (raw >> 1) ^ -(raw & 1)
    return ValueError(f"{kind} index {index} out of range 0..{size - 1} at {path}")


def _check_count(count: int, buf: bytes, pos: int, path: str) -> None:
    if count > len(buf) - pos:
        raise EOFError(f"block of {count} items at {path} is longer than the record")


def _end_error(buf: bytes, pos: int) -> Exception:
    if pos > len(buf):
        return EOFError(f"truncated record: needs {pos} bytes, has {len(buf)}")
    return ValueError(f"{len(buf) - pos} trailing bytes after the record")


def _truncated(buf: bytes, pos: int) -> EOFError:
    return EOFError(f"truncated record: ran out of bytes after offset {pos} of {len(buf)}")


def _varint(z: int) -> bytes | bytearray:
    """Varint bytes of a non-negative (already zig-zagged) value."""
    if z < 0x80:
        return _BYTES[z]
    out = bytearray()
    while z > 0x7F:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return out


def _long_bytes(x: int) -> bytes | bytearray:
    if not _LONG_MIN <= x <= _LONG_MAX:
        raise OverflowError(f"{x} does not fit an Avro long")
    return _varint((x << 1) ^ (x >> 63))


def _int_bytes(x: int) -> bytes | bytearray:
    if not _INT_MIN <= x <= _INT_MAX:
        raise OverflowError(f"{x} does not fit an Avro int")
    return _varint((x << 1) ^ (x >> 63))


def _as_int(x: Any, path: str) -> int:
    """An integral non-bool value as int (what fastavro validates as an int or long)."""
    if isinstance(x, Integral) and not isinstance(x, bool):
        return int(x)
    raise TypeError(f"{x!r} (type {type(x).__name__}) is not an integer, at {path}")


def _as_float(x: Any, path: str) -> float:
    if isinstance(x, (int, float, Real)) and not isinstance(x, bool):
        return float(x)
    raise TypeError(f"{x!r} (type {type(x).__name__}) is not a number, at {path}")


def _as_bytes(x: Any, path: str) -> bytes | bytearray:
    if isinstance(x, (bytes, bytearray)):
        return x
    raise TypeError(f"{x!r} (type {type(x).__name__}) is not bytes, at {path}")


def _as_str(x: Any, path: str) -> str:
    if isinstance(x, str):
        return x
    raise TypeError(f"{x!r} (type {type(x).__name__}) is not a string, at {path}")


class _Encodable(Protocol):
    def encode(self) -> bytes: ...


def _encode(x: Any, path: str) -> _Encodable:
    """Outside a union fastavro writes anything with an encode method as a string."""
    if hasattr(x, "encode"):
        return x  # type: ignore[no-any-return]
    raise TypeError(f"{x!r} (type {type(x).__name__}) is not a string, at {path}")


def _as_list(x: Any, path: str) -> list[Any]:
    if isinstance(x, list):
        return x
    raise TypeError(f"{x!r} (type {type(x).__name__}) is not a list, at {path}")


def _as_dict(x: Any, path: str) -> dict[Any, Any]:
    if isinstance(x, dict):
        return x
    raise TypeError(f"{x!r} (type {type(x).__name__}) is not a dict, at {path}")


def _as_record(x: Any, path: str) -> Mapping[str, Any]:
    if isinstance(x, Mapping) and "-type" not in x:
        return x
    raise TypeError(f"{x!r} (type {type(x).__name__}) is not a record, at {path}")


def _no_branch(x: Any, path: str) -> TypeError:
    return TypeError(f"{x!r} (type {type(x).__name__}) matches no branch of the union at {path}")


def _bad_bool(x: Any, path: str) -> TypeError:
    return TypeError(f"{x!r} (type {type(x).__name__}) is not a bool, at {path}")


def _enum_index(symbols: list[str], x: Any, path: str) -> int:
    try:
        return symbols.index(x)
    except ValueError:
        raise ValueError(f"{x!r} is not a symbol of the enum at {path}") from None


def _bad_fixed(x: Any, size: int, path: str) -> ValueError:
    return ValueError(f"{x!r} is not {size} bytes, at {path}")


def _decimal_bytes(x: Decimal, quantum: Decimal, ctx: Context, scale: int) -> bytes | None:
    """fastavro's bytes for a Decimal, or None where its own converter must decide.

    Quantizing to the schema's scale in a context of the schema's precision that traps Rounded
    and InvalidOperation succeeds exactly when fastavro's checks pass (no digit below the scale,
    even a zero; at most `precision` digits), bar a few it accepts that this refuses (1E+20).
    """
    try:
        unscaled = int(x.quantize(quantum, None, ctx).scaleb(scale, ctx))
    except (ArithmeticError, ValueError):  # decimal.Rounded, InvalidOperation; NaN
        return None
    return unscaled.to_bytes((unscaled.bit_length() + 8) // 8, "big", signed=True)


_BYTES = tuple(bytes((i,)) for i in range(256))
_ZIGZAG = tuple((i >> 1) ^ -(i & 1) for i in range(128))
_HELPERS: dict[str, Any] = {
    "_uvarint": _uvarint,
    "_read_long": _read_long,
    "_read_length": _read_length,
    "_bad_index": _bad_index,
    "_check_count": _check_count,
    "_end_error": _end_error,
    "_truncated": _truncated,
    "_varint": _varint,
    "_long_bytes": _long_bytes,
    "_int_bytes": _int_bytes,
    "_as_int": _as_int,
    "_as_float": _as_float,
    "_as_bytes": _as_bytes,
    "_as_str": _as_str,
    "_encode": _encode,
    "_as_list": _as_list,
    "_as_dict": _as_dict,
    "_as_record": _as_record,
    "_no_branch": _no_branch,
    "_bad_bool": _bad_bool,
    "_enum_index": _enum_index,
    "_bad_fixed": _bad_fixed,
    "_decimal_bytes": _decimal_bytes,
    "_ZIGZAG": _ZIGZAG,
    "_B": _BYTES,
    "_EPOCH": _EPOCH,
    "_UTC": UTC,
    "_EPOCH_NAIVE": _EPOCH_NAIVE,
    "_MILLI": _MILLI,
    "_MICRO": _MICRO,
    "_timedelta": timedelta,
    "_fromordinal": date.fromordinal,
    "_from_bytes": int.from_bytes,
    "_Decimal": Decimal,
    "_datetime": datetime,
    "_date": date,
    "_pack_float": struct.Struct("<f").pack,
    "_pack_double": struct.Struct("<d").pack,
    "_unpack_float": struct.Struct("<f").unpack_from,
    "_unpack_double": struct.Struct("<d").unpack_from,
    "_struct_error": struct.error,
    "_CACHE_LIMIT": _CACHE_LIMIT,
}


# --- generation -----------------------------------------------------------------------------------


class _Source:
    """Lines of generated code and the constants they name."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = dict(_HELPERS)
        self._count = 0

    def var(self, stem: str) -> str:
        self._count += 1
        return f"{stem}{self._count}"

    def const(self, value: Any, stem: str) -> str:
        name = self.var(f"_{stem}")
        self.names[name] = value
        return name

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def build(self, name: str, label: str) -> Callable[..., Any]:
        code = compile("\n".join(self.lines) + "\n", f"<avro_codegen {label}>", "exec")
        exec(code, self.names)
        fn: Callable[..., Any] = self.names[name]
        fn.__avro_source__ = "\n".join(self.lines)  # type: ignore[attr-defined]  # for debugging
        return fn


def _parse(schema: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """fastavro's parse (names qualified, schema validated) and its named types."""
    named: dict[str, Any] = {}
    try:
        parsed = fastavro.parse_schema(schema, named_schemas=named)
    except Exception as exc:
        raise _Unsupported(f"fastavro cannot parse the schema: {exc}") from exc
    if not isinstance(parsed, dict) or parsed.get("type") not in ("record", "error"):
        raise _Unsupported("the top-level schema is not a record")
    return parsed, named


def _kind(node: Any) -> tuple[str, str | None]:
    """(Avro type, fastavro's logical key such as 'long-timestamp-millis' or None)."""
    if isinstance(node, list):
        return "union", None
    if isinstance(node, str):
        return node, None
    if not isinstance(node, dict) or not isinstance(node.get("type"), str):
        raise _Unsupported(f"unexpected schema node {node!r}")
    kind: str = node["type"]
    logical = node.get("logicalType")
    return kind, (f"{kind}-{logical}" if logical else None)


def _fields(node: dict[str, Any]) -> list[dict[str, Any]]:
    fields = node.get("fields", [])
    if not isinstance(fields, list):
        raise _Unsupported("record fields are not a list")
    return fields


class _Types:
    """Named-type lookup shared by the reader and writer generators; refuses recursion."""

    def __init__(self, named: dict[str, Any]) -> None:
        self.named = named
        self.open: list[str] = []

    def resolve(self, node: Any) -> Any:
        if isinstance(node, str) and node not in _PRIMITIVES:
            if node not in self.named:
                raise _Unsupported(f"unknown named type {node}")
            return self.named[node]
        return node

    def enter(self, node: dict[str, Any]) -> None:
        name = str(node.get("name"))
        if name in self.open:
            raise _Unsupported(f"recursive type {name}")
        self.open.append(name)

    def leave(self) -> None:
        self.open.pop()

    def min_size(self, node: Any) -> int:
        """Fewest bytes a value of this type can take (bounds a block count)."""
        node = self.resolve(node)
        kind, _ = _kind(node)
        if kind == "null":
            return 0
        if kind == "float":
            return 4
        if kind == "double":
            return 8
        if kind == "fixed":
            return int(node["size"])
        if kind in ("record", "error"):
            self.enter(node)
            try:
                return sum(self.min_size(f["type"]) for f in _fields(node))
            finally:
                self.leave()
        return 1


class _ReaderGen:
    def __init__(self, named: dict[str, Any]) -> None:
        self.src = _Source()
        self.types = _Types(named)
        self.caches: dict[str, str] = {}

    def value(self, node: Any, depth: int, path: str, v: str | None = None) -> str:
        """Emit code leaving the decoded value in variable `v` (a new one by default)."""
        node = self.types.resolve(node)
        kind, logical = _kind(node)
        v = v or self.src.var("v")
        if logical is not None and logical in LOGICAL_READERS:
            self.logical(node, kind, logical, v, depth, path)
        else:
            self.plain(node, kind, v, depth, path)
        return v

    def plain(self, node: Any, kind: str, v: str, depth: int, path: str) -> None:
        src, line = self.src, self.src.line
        if kind == "null":
            line(depth, f"{v} = None")
        elif kind in ("int", "long"):
            self.long(v, depth)
        elif kind == "string":
            self.length(depth)
            line(depth, f"{v} = buf[pos:end].decode()")
            line(depth, "pos = end")
        elif kind == "bytes":
            self.length(depth)
            line(depth, f"{v} = buf[pos:end]")
            line(depth, "pos = end")
        elif kind == "boolean":
            line(depth, f"{v} = buf[pos] != 0")
            line(depth, "pos += 1")
        elif kind == "float":
            line(depth, f"{v} = _unpack_float(buf, pos)[0]")
            line(depth, "pos += 4")
        elif kind == "double":
            line(depth, f"{v} = _unpack_double(buf, pos)[0]")
            line(depth, "pos += 8")
        elif kind == "fixed":
            size = node.get("size")
            if not isinstance(size, int) or size < 0:
                raise _Unsupported("fixed without a valid size")
            line(depth, f"{v} = buf[pos:pos + {size}]")
            line(depth, f"pos += {size}")
        elif kind == "enum":
            symbols = node.get("symbols")
            if not isinstance(symbols, list) or not symbols:
                raise _Unsupported("enum without symbols")
            table = src.const(tuple(symbols), "symbols")
            self.index(depth)
            line(depth, f"if b & 1 or b >= {2 * len(symbols)}:")
            line(depth + 1, f"raise _bad_index('enum', b, {len(symbols)}, {path!r})")
            line(depth, f"{v} = {table}[b >> 1]")
        elif kind == "union":
            self.union(node, v, depth, path)
        elif kind in ("record", "error"):
            self.types.enter(node)
            values = [
                (f["name"], self.value(f["type"], depth, f"{path}.{f['name']}"))
                for f in _fields(node)
            ]
            self.types.leave()
            items = ", ".join(f"{name!r}: {var}" for name, var in values)
            line(depth, f"{v} = {{{items}}}")
        elif kind == "array":
            self.blocks(node["items"], v, depth, f"{path}[]", is_map=False)
        elif kind == "map":
            self.blocks(node["values"], v, depth, f"{path}{{}}", is_map=True)
        else:
            raise _Unsupported(f"type {kind}")

    def logical(
        self, node: dict[str, Any], kind: str, logical: str, v: str, depth: int, path: str
    ) -> None:
        src, line = self.src, self.src.line
        inline = logical in _INLINE_READ and LOGICAL_READERS[logical] is _BUILTIN_READERS.get(
            logical
        )
        if not inline:
            raw = src.var("raw")
            self.plain(node, kind, raw, depth, path)
            fn = src.const(LOGICAL_READERS[logical], "logical")
            line(depth, f"{v} = {fn}({raw}, {src.const(node, 'schema')}, None)")
        elif kind in ("bytes", "fixed"):  # decimal
            precision, scale = node.get("precision"), node.get("scale", 0)
            if not isinstance(precision, int) or not isinstance(scale, int):
                raise _Unsupported("decimal without an integer precision and scale")
            raw = src.var("raw")
            self.plain(node, kind, raw, depth, path)
            ctx = src.const(Context(prec=precision), "context")
            cache = self.cache(f"{logical}-{precision}-{scale}")
            line(depth, f"{v} = {cache}.get({raw})")
            line(depth, f"if {v} is None:")
            line(depth + 1, f"{v} = _Decimal(_from_bytes({raw}, 'big', signed=True))")
            line(depth + 1, f"{v} = {v}.scaleb({-scale}, {ctx})")
            self.remember(cache, raw, v, depth + 1)
        else:
            # the varint's bytes are the key: a varint ends itself, so if the next `size`
            # bytes are a cached one they are the whole value
            size, expr = _CACHED_READS[logical]
            cache = self.cache(logical)
            key, start, raw = src.var("key"), src.var("start"), src.var("raw")
            line(depth, f"{key} = buf[pos:pos + {size}]")
            line(depth, f"{v} = {cache}.get({key})")
            line(depth, f"if {v} is None:")
            line(depth + 1, f"{start} = pos")
            self.long(raw, depth + 1)
            line(depth + 1, f"{v} = {expr.format(raw)}")
            line(depth + 1, f"if pos - {start} == {size}:")
            self.remember(cache, key, v, depth + 2)
            line(depth, "else:")
            line(depth + 1, f"pos += {size}")

    def cache(self, name: str) -> str:
        """A reader's memo of costly conversions to immutable values, by the encoded bytes;
        a record's timestamps are often equal and a batch's dates and prices repeat."""
        if name not in self.caches:
            self.caches[name] = self.src.const({}, "cache")
        return self.caches[name]

    def remember(self, cache: str, key: str, v: str, depth: int) -> None:
        line = self.src.line
        line(depth, f"if len({cache}) >= _CACHE_LIMIT:")
        line(depth + 1, f"{cache}.clear()")
        line(depth, f"{cache}[{key}] = {v}")

    def long(self, v: str, depth: int) -> None:
        """One- and two-byte varints in line, longer ones by a call."""
        line = self.src.line
        line(depth, "b = buf[pos]")
        line(depth, "if b < 128:")
        line(depth + 1, f"{v} = _ZIGZAG[b]")
        line(depth + 1, "pos += 1")
        line(depth, "elif (c := buf[pos + 1]) < 128:")
        line(depth + 1, "n = (b & 127) | (c << 7)")
        line(depth + 1, f"{v} = (n >> 1) ^ -(n & 1)")
        line(depth + 1, "pos += 2")
        line(depth, "else:")
        line(depth + 1, f"{v}, pos = _read_long(buf, pos)")

    def length(self, depth: int) -> None:
        """Leave the data's bounds in pos:end (end may pass the buffer; checked at the end).
        A one- or two-byte length that is not negative (an even varint) is read in line."""
        line = self.src.line
        line(depth, "b = buf[pos]")
        line(depth, "if not b & 129:")
        line(depth + 1, "pos += 1")
        line(depth + 1, "end = pos + (b >> 1)")
        line(depth, "elif not b & 1 and (c := buf[pos + 1]) < 128:")
        line(depth + 1, "pos += 2")
        line(depth + 1, "end = pos + ((b & 127) >> 1 | c << 6)")
        line(depth, "else:")
        line(depth + 1, "n, pos = _read_length(buf, pos)")
        line(depth + 1, "end = pos + n")

    def index(self, depth: int) -> None:
        """Leave a union or enum index, still zig-zag encoded, in b."""
        line = self.src.line
        line(depth, "b = buf[pos]")
        line(depth, "if b < 128:")
        line(depth + 1, "pos += 1")
        line(depth, "else:")
        line(depth + 1, "b, pos = _uvarint(buf, pos)")

    def union(self, branches: list[Any], v: str, depth: int, path: str) -> None:
        line = self.src.line
        if not branches:
            raise _Unsupported("empty union")
        self.index(depth)
        for i, branch in enumerate(branches):
            line(depth, f"{'if' if i == 0 else 'elif'} b == {2 * i}:")
            self.value(branch, depth + 1, path, v)
        line(depth, "else:")
        line(depth + 1, f"raise _bad_index('union', b, {len(branches)}, {path!r})")

    def blocks(self, item: Any, v: str, depth: int, path: str, *, is_map: bool) -> None:
        """Arrays and maps: blocks of items, a negative count followed by a byte size."""
        src, line = self.src, self.src.line
        count = src.var("count")
        bounded = is_map or self.types.min_size(item) > 0
        line(depth, f"{v} = {{}}" if is_map else f"{v} = []")
        self.long(count, depth)
        line(depth, f"while {count}:")
        line(depth + 1, f"if {count} < 0:")
        line(depth + 2, f"{count} = -{count}")
        line(depth + 2, "n, pos = _read_long(buf, pos)")
        if bounded:
            line(depth + 1, f"_check_count({count}, buf, pos, {path!r})")
        line(depth + 1, f"for _ in range({count}):")
        if is_map:
            key = src.var("k")
            self.length(depth + 2)
            line(depth + 2, f"{key} = buf[pos:end].decode()")
            line(depth + 2, "pos = end")
            item_var = self.value(item, depth + 2, path)
            line(depth + 2, f"{v}[{key}] = {item_var}")
        else:
            item_var = self.value(item, depth + 2, path)
            line(depth + 2, f"{v}.append({item_var})")
        self.long(count, depth + 1)


class _WriterGen:
    def __init__(self, named: dict[str, Any]) -> None:
        self.src = _Source()
        self.types = _Types(named)
        self.caches: dict[str, str] = {}

    def varint_const(self, depth: int, zigzag: int) -> None:
        self.src.line(depth, f"out += {bytes(_varint(zigzag))!r}")

    def value(self, node: Any, x: str, depth: int, path: str, strict: bool) -> None:
        """Emit code writing the value in variable `x`.

        `strict`: inside a union branch, where fastavro has validated the value first, so a
        string must be a str (outside one fastavro takes anything with an encode method).
        """
        node = self.types.resolve(node)
        kind, logical = _kind(node)
        if logical is not None and logical in LOGICAL_WRITERS:
            self.logical(node, kind, logical, x, depth, path, strict)
        else:
            self.plain(node, kind, x, depth, path, strict)

    def logical(
        self,
        node: dict[str, Any],
        kind: str,
        logical: str,
        x: str,
        depth: int,
        path: str,
        strict: bool,
    ) -> None:
        """The usual input type in line; anything else through fastavro's own converter."""
        src, line = self.src, self.src.line
        fn = src.const(LOGICAL_WRITERS[logical], "prepare")
        prepare = f"{fn}({x}, {src.const(node, 'schema')})"
        y = src.var("y")
        inline = logical in _INLINE_WRITE and LOGICAL_WRITERS[logical] is _BUILTIN_WRITERS.get(
            logical
        )
        if not inline:
            line(depth, f"{y} = {prepare}")
        elif logical in ("long-timestamp-millis", "long-timestamp-micros"):
            unit = "_MILLI" if logical == "long-timestamp-millis" else "_MICRO"
            # memoised for UTC only: there equal datetimes are equal instants (not so for
            # zones with folds), and the service clocks are UTC
            self.cached(
                logical,
                x,
                f"type({x}) is _datetime and {x}.tzinfo is _UTC",
                f"_long_bytes(({x} - _EPOCH) // {unit})",
                depth,
            )
            line(depth, "else:")
            line(depth + 1, f"if type({x}) is _datetime and {x}.tzinfo is not None:")
            line(depth + 2, f"{y} = ({x} - _EPOCH) // {unit}")
            line(depth + 1, "else:")
            line(depth + 2, f"{y} = {prepare}")
            depth += 1
        elif logical == "int-date":
            self.cached(
                logical,
                x,
                f"type({x}) is _date",
                f"_int_bytes({x}.toordinal() - {_DAYS_SHIFT})",
                depth,
            )
            line(depth, "else:")
            line(depth + 1, f"{y} = {prepare}")
            depth += 1
        else:  # bytes-decimal
            precision, scale = node.get("precision"), node.get("scale", 0)
            if not isinstance(precision, int) or not isinstance(scale, int):
                raise _Unsupported("decimal without an integer precision and scale")
            quantum = src.const(Decimal(1).scaleb(-scale), "quantum")
            ctx = src.const(Context(prec=precision, traps=[Rounded, InvalidOperation]), "context")
            line(depth, f"{y} = None")
            line(depth, f"if type({x}) is _Decimal:")
            line(depth + 1, f"{y} = _decimal_bytes({x}, {quantum}, {ctx}, {scale})")
            line(depth, f"if {y} is None:")
            line(depth + 1, f"{y} = {prepare}")
        self.plain(node, kind, y, depth, path, strict)

    def cached(self, logical: str, x: str, test: str, encode: str, depth: int) -> None:
        """Where `test` holds, the encoding of `x`, memoised by value (a batch's records share
        their timestamps and dates). The caller emits the else branch."""
        src, line = self.src, self.src.line
        cache = self.caches.get(logical)
        if cache is None:
            cache = self.caches[logical] = src.const({}, "cache")
        e = src.var("e")
        line(depth, f"if {test}:")
        line(depth + 1, f"{e} = {cache}.get({x})")
        line(depth + 1, f"if {e} is None:")
        line(depth + 2, f"{e} = {encode}")
        line(depth + 2, f"if len({cache}) >= _CACHE_LIMIT:")
        line(depth + 3, f"{cache}.clear()")
        line(depth + 2, f"{cache}[{x}] = {e}")
        line(depth + 1, f"out += {e}")

    def plain(self, node: Any, kind: str, x: str, depth: int, path: str, strict: bool) -> None:
        src, line = self.src, self.src.line
        p = repr(path)
        if kind == "null":
            if strict:  # fastavro validates None; outside a union it writes nothing, whatever
                line(depth, f"if {x} is not None:")
                line(depth + 1, f"raise _no_branch({x}, {p})")
        elif kind in ("int", "long"):
            line(depth, f"if type({x}) is not int:")
            line(depth + 1, f"{x} = _as_int({x}, {p})")
            line(depth, f"if -64 <= {x} < 64:")
            line(depth + 1, f"out += _B[({x} << 1) ^ ({x} >> 63)]")
            line(depth, f"elif -8192 <= {x} < 8192:")
            line(depth + 1, f"z = ({x} << 1) ^ ({x} >> 63)")
            line(depth + 1, "out += _B[z & 127 | 128]")
            line(depth + 1, "out += _B[z >> 7]")
            line(depth, "else:")
            line(depth + 1, f"out += {'_int_bytes' if kind == 'int' else '_long_bytes'}({x})")
        elif kind == "string":
            s = src.var("s")
            line(depth, f"if type({x}) is str:")
            line(depth + 1, f"{s} = {x}.encode()")
            line(depth, "else:")
            line(depth + 1, f"{s} = {'_as_str' if strict else '_encode'}({x}, {p}).encode()")
            self.sized(s, depth)
        elif kind == "bytes":
            line(depth, f"if type({x}) is not bytes:")
            line(depth + 1, f"{x} = _as_bytes({x}, {p})")
            self.sized(x, depth)
        elif kind == "boolean":
            line(depth, f"if {x} is True:")
            line(depth + 1, "out += b'\\x01'")
            line(depth, f"elif {x} is False:")
            line(depth + 1, "out += b'\\x00'")
            line(depth, "else:")
            line(depth + 1, f"raise _bad_bool({x}, {p})")
        elif kind in ("float", "double"):
            line(depth, f"if type({x}) is not float:")
            line(depth + 1, f"{x} = _as_float({x}, {p})")
            line(depth, f"out += {'_pack_float' if kind == 'float' else '_pack_double'}({x})")
        elif kind == "fixed":
            size = node.get("size")
            if not isinstance(size, int) or size < 0:
                raise _Unsupported("fixed without a valid size")
            line(depth, f"if type({x}) is not bytes:")
            line(depth + 1, f"{x} = _as_bytes({x}, {p})")
            line(depth, f"if len({x}) != {size}:")
            line(depth + 1, f"raise _bad_fixed({x}, {size}, {p})")
            line(depth, f"out += {x}")
        elif kind == "enum":
            symbols = node.get("symbols")
            if not isinstance(symbols, list) or not symbols:
                raise _Unsupported("enum without symbols")
            encoded = src.const(
                {s: bytes(_varint(2 * i)) for i, s in reversed(list(enumerate(symbols)))},
                "enum",
            )
            listed = src.const(list(symbols), "symbols")
            line(depth, "try:")
            line(depth + 1, f"out += {encoded}[{x}]")
            line(depth, "except (KeyError, TypeError):")
            line(depth + 1, f"out += _varint(2 * _enum_index({listed}, {x}, {p}))")
        elif kind == "union":
            self.union(node, x, depth, path)
        elif kind in ("record", "error"):
            self.record(node, x, depth, path, strict)
        elif kind == "array":
            item = src.var("item")
            line(depth, f"if type({x}) is not list:")
            line(depth + 1, f"{x} = _as_list({x}, {p})")
            line(depth, f"if {x}:")
            line(depth + 1, f"out += _long_bytes(len({x}))")
            line(depth + 1, f"for {item} in {x}:")
            self.value(node["items"], item, depth + 2, f"{path}[]", strict)
            line(depth, "out += b'\\x00'")
        elif kind == "map":
            key, item = src.var("k"), src.var("item")
            line(depth, f"if type({x}) is not dict:")
            line(depth + 1, f"{x} = _as_dict({x}, {p})")
            line(depth, f"if {x}:")
            line(depth + 1, f"out += _long_bytes(len({x}))")
            line(depth + 1, f"for {key}, {item} in {x}.items():")
            self.plain("string", "string", key, depth + 2, f"{path}{{}}", strict)
            self.value(node["values"], item, depth + 2, f"{path}{{}}", strict)
            line(depth, "out += b'\\x00'")
        else:
            raise _Unsupported(f"type {kind}")

    def sized(self, data: str, depth: int) -> None:
        """Length then bytes."""
        line = self.src.line
        n = self.src.var("n")
        line(depth, f"{n} = len({data})")
        line(depth, f"if {n} < 64:")
        line(depth + 1, f"out += _B[{n} << 1]")
        line(depth, f"elif {n} < 8192:")
        line(depth + 1, f"out += _B[({n} << 1) & 127 | 128]")
        line(depth + 1, f"out += _B[{n} >> 6]")
        line(depth, "else:")
        line(depth + 1, f"out += _varint({n} << 1)")
        line(depth, f"out += {data}")

    def record(self, node: dict[str, Any], x: str, depth: int, path: str, strict: bool) -> None:
        src, line = self.src, self.src.line
        if strict:
            line(depth, f"if type({x}) is not dict or '-type' in {x}:")
            line(depth + 1, f"{x} = _as_record({x}, {path!r})")
        self.types.enter(node)
        for field in _fields(node):
            name, ftype = field["name"], field["type"]
            fx = src.var("x")
            if "default" in field:
                default = field["default"]
                if default is None:
                    line(depth, f"{fx} = {x}.get({name!r})")
                else:
                    line(depth, f"{fx} = {x}.get({name!r}, {src.const(default, 'default')})")
            elif "null" in ftype:  # fastavro's test, verbatim: a missing value is then None
                line(depth, f"{fx} = {x}.get({name!r})")
            else:
                line(depth, f"{fx} = {x}[{name!r}]")
            self.value(ftype, fx, depth, f"{path}.{name}", strict)
        self.types.leave()

    def union(self, branches: list[Any], x: str, depth: int, path: str) -> None:
        """fastavro writes the first branch whose validation accepts the value.

        With one non-null branch the choice is None or not. Otherwise every branch must be a
        primitive whose validation is a type test (or the single record or map of the union),
        so the same tests, in the same order, pick the same branch.
        """
        line = self.src.line
        kinds = [_kind(self.types.resolve(b)) for b in branches]
        if not branches or len({k for k, _ in kinds}) != len(kinds):
            raise _Unsupported("empty union or repeated branch type")
        others = [i for i, (k, _) in enumerate(kinds) if k != "null"]
        nulls = [i for i, (k, _) in enumerate(kinds) if k == "null"]
        if len(others) <= 1:
            if nulls:
                line(depth, f"if {x} is None:")
                self.varint_const(depth + 1, 2 * nulls[0])
            if not others:
                line(depth, "else:")
                line(depth + 1, f"raise _no_branch({x}, {path!r})")
            else:
                if nulls:
                    line(depth, "else:")
                i = others[0]
                inner = depth + 1 if nulls else depth
                self.varint_const(inner, 2 * i)
                self.value(branches[i], x, inner, path, strict=True)
            return
        tests: list[str] = []
        containers = 0
        for kind, logical in kinds:
            if logical is not None and logical in LOGICAL_WRITERS:
                raise _Unsupported("logical type in a union of several non-null branches")
            if kind in ("record", "error", "map"):
                containers += 1
                tests.append(f"isinstance({x}, _Mapping)")
            else:
                tests.append(_UNION_TESTS.get(kind, "").format(x=x))
        if any(not t for t in tests) or containers > 1:
            raise _Unsupported("union branch chosen by deep validation")
        if {"float", "double"} <= {k for k, _ in kinds}:
            raise _Unsupported("union of float and double")
        self.src.names["_Mapping"] = Mapping
        self.src.names["_Integral"] = Integral
        self.src.names["_Real"] = Real
        for i, test in enumerate(tests):
            line(depth, f"{'if' if i == 0 else 'elif'} {test}:")
            self.varint_const(depth + 1, 2 * i)
            self.value(branches[i], x, depth + 1, path, strict=True)
        line(depth, "else:")
        line(depth + 1, f"raise _no_branch({x}, {path!r})")


# fastavro's validation of each primitive, as an expression (the branch it picks is the first
# whose test passes)
_UNION_TESTS = {
    "null": "{x} is None",
    "boolean": "isinstance({x}, bool)",
    "string": "isinstance({x}, str)",
    "bytes": "isinstance({x}, (bytes, bytearray))",
    "int": (
        "(isinstance({x}, _Integral) and not isinstance({x}, bool)"
        f" and {_INT_MIN} <= {{x}} <= {_INT_MAX})"
    ),
    "long": (
        "(isinstance({x}, _Integral) and not isinstance({x}, bool)"
        f" and {_LONG_MIN} <= {{x}} <= {_LONG_MAX})"
    ),
    "float": "(isinstance({x}, (int, float, _Real)) and not isinstance({x}, bool))",
    "double": "(isinstance({x}, (int, float, _Real)) and not isinstance({x}, bool))",
}


def _label(parsed: dict[str, Any]) -> str:
    return str(parsed.get("name", "record")).rsplit(".", 1)[-1]


def compile_reader(schema: Any) -> Reader | None:
    """A decoder for records written with `schema` (JSON form), or None where unsupported."""
    try:
        parsed, named = _parse(schema)
        gen = _ReaderGen(named)
        line = gen.src.line
        line(0, "def read(buf, pos=0):")
        line(1, "if type(buf) is not bytes:")
        line(2, "buf = bytes(buf)")
        line(1, "try:")
        result = gen.value(parsed, 2, _label(parsed))
        line(1, "except (IndexError, _struct_error):")
        line(2, "raise _truncated(buf, pos) from None")
        line(1, "if pos != len(buf):")
        line(2, "raise _end_error(buf, pos)")
        line(1, f"return {result}")
        reader: Reader = gen.src.build("read", f"reader {_label(parsed)}")
    except _Unsupported:
        return None
    return reader


def compile_writer(schema: Any) -> Writer | None:
    """An encoder for records of `schema` (JSON form), or None where unsupported."""
    try:
        parsed, named = _parse(schema)
        gen = _WriterGen(named)
        line = gen.src.line
        line(0, "def write(value, prefix=b''):")
        line(1, "out = bytearray(prefix)")
        gen.value(parsed, "value", 1, _label(parsed), strict=False)
        line(1, "return bytes(out)")
        writer: Writer = gen.src.build("write", f"writer {_label(parsed)}")
    except _Unsupported:
        return None
    return writer
