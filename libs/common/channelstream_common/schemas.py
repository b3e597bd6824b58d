"""Avro event contracts in ``schemas/avro/<EventName>/vN.avsc`` and their compatibility check."""

from __future__ import annotations

import io
import json
import os
import random
import re
import sys
from functools import cache
from pathlib import Path
from typing import Any, cast

from fastavro import parse_schema, schemaless_reader, schemaless_writer
from fastavro.utils import generate_many

_VERSION_FILE = re.compile(r"v([1-9][0-9]*)\.avsc")
_PROMOTIONS = {
    "int": {"long", "float", "double"},
    "long": {"float", "double"},
    "float": {"double"},
    "string": {"bytes"},
    "bytes": {"string"},
}
_NAMED = {"record", "error", "enum", "fixed"}


def schema_dir() -> Path:
    if env := os.environ.get("CHANNELSTREAM_SCHEMA_DIR"):
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (candidate := parent / "schemas" / "avro").is_dir():
            return candidate
    return here.parent / "avro"


def _version_files(event_type: str) -> list[Path]:
    found = [
        (int(m.group(1)), p)
        for p in (schema_dir() / event_type).glob("v*.avsc")
        if (m := _VERSION_FILE.fullmatch(p.name))
    ]
    return [p for _, p in sorted(found)]


def event_types() -> list[str]:
    root = schema_dir()
    if not root.is_dir():
        return []
    return sorted(d.name for d in root.iterdir() if d.is_dir() and _version_files(d.name))


def versions(event_type: str) -> list[dict[str, Any]]:
    files = _version_files(event_type)
    if not files:
        raise KeyError(f"no schema versions for event type {event_type!r} in {schema_dir()}")
    return [json.loads(p.read_text()) for p in files]


def latest(event_type: str) -> dict[str, Any]:
    return versions(event_type)[-1]


@cache
def parsed(event_type: str) -> dict[str, Any]:
    return cast(dict[str, Any], parse_schema(latest(event_type)))


def _kind(schema: Any) -> str:
    if isinstance(schema, list):
        return "union"
    return str(schema["type"] if isinstance(schema, dict) else schema)


def _logical(schema: Any) -> tuple[Any, ...]:
    if not isinstance(schema, dict):
        return (None,)
    return schema.get("logicalType"), schema.get("precision"), schema.get("scale")


def _structural(
    writer: Any, reader: Any, named: tuple[dict[str, Any], dict[str, Any]], path: str
) -> list[str]:
    writer = named[0].get(writer, writer) if isinstance(writer, str) else writer
    reader = named[1].get(reader, reader) if isinstance(reader, str) else reader
    if isinstance(writer, list):
        return [p for branch in writer for p in _structural(branch, reader, named, path)]
    if isinstance(reader, list):
        if any(not _structural(writer, branch, named, path) for branch in reader):
            return []
        return [f"{path}: writer type {_kind(writer)} matches no branch of the reader union"]
    wk, rk = _kind(writer), _kind(reader)
    if wk != rk:
        if rk in _PROMOTIONS.get(wk, set()):
            return []
        return [f"{path}: type changed from {wk} to {rk}"]
    if _logical(writer) != _logical(reader):
        return [f"{path}: logical type changed from {_logical(writer)} to {_logical(reader)}"]
    if wk in _NAMED and writer["name"] not in (reader["name"], *reader.get("aliases", [])):
        return [f"{path}: type name changed from {writer['name']} to {reader['name']}"]
    if wk in ("record", "error"):
        wfields = {f["name"]: f for f in writer["fields"]}
        problems = []
        for rf in reader["fields"]:
            names = [rf["name"], *rf.get("aliases", [])]
            wf = next((wfields[n] for n in names if n in wfields), None)
            if wf is not None:
                problems += _structural(wf["type"], rf["type"], named, f"{path}.{rf['name']}")
            elif "default" not in rf:
                problems.append(f"{path}.{rf['name']}: field added without a default")
        return problems
    if wk == "enum":
        removed = [s for s in writer["symbols"] if s not in reader["symbols"]]
        if removed and "default" not in reader:
            return [f"{path}: enum symbols removed without a reader default: {removed}"]
    if wk == "fixed" and writer["size"] != reader["size"]:
        return [f"{path}: fixed size changed from {writer['size']} to {reader['size']}"]
    if wk == "array":
        return _structural(writer["items"], reader["items"], named, f"{path}[]")
    if wk == "map":
        return _structural(writer["values"], reader["values"], named, f"{path}{{}}")
    return []


def _first_read_failure(
    writer: dict[str, Any], reader: dict[str, Any], samples: int, seed: str
) -> str | None:
    state = random.getstate()
    random.seed(seed)
    try:
        records = list(generate_many(writer, samples))
    finally:
        random.setstate(state)
    for i, record in enumerate(records):
        buf = io.BytesIO()
        try:
            schemaless_writer(buf, writer, record)
            buf.seek(0)
            schemaless_reader(buf, writer, reader)
        except Exception as exc:
            return f"sample {i}: {type(exc).__name__}: {exc}"
    return None


def check_backward_transitive(versions: list[dict[str, Any]], samples: int = 200) -> list[str]:
    """Problems preventing each version from reading data written with every earlier one."""
    problems: list[str] = []
    schemas: list[tuple[dict[str, Any], dict[str, Any]] | None] = []
    for n, raw in enumerate(versions, 1):
        named: dict[str, Any] = {}
        try:
            schemas.append((cast(dict[str, Any], parse_schema(raw, named)), named))
        except Exception as exc:
            problems.append(f"v{n}: invalid schema: {type(exc).__name__}: {exc}")
            schemas.append(None)
    for n, new in enumerate(schemas, 1):
        for m, old in enumerate(schemas[: n - 1], 1):
            if new is None or old is None:
                continue
            prefix = f"v{m} -> v{n}"
            root = str(old[0].get("name", "")).rsplit(".", 1)[-1]
            problems += [
                f"{prefix}: {p}" for p in _structural(old[0], new[0], (old[1], new[1]), root)
            ]
            if failure := _first_read_failure(old[0], new[0], samples, prefix):
                problems.append(f"{prefix}: data written with v{m} unreadable with v{n}: {failure}")
    return problems


def check_all() -> dict[str, list[str]]:
    results: dict[str, list[str]] = {}
    for event_type in event_types():
        try:
            results[event_type] = check_backward_transitive(versions(event_type))
        except (OSError, ValueError) as exc:
            results[event_type] = [f"cannot load schemas: {exc}"]
    return results


def main() -> int:
    results = check_all()
    if not results:
        print(f"no event schemas found in {schema_dir()}", file=sys.stderr)
        return 1
    failed = False
    for event_type, problems in results.items():
        print(f"{event_type}: {'INCOMPATIBLE' if problems else 'ok'}")
        for problem in problems:
            print(f"  - {problem}")
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
