"""The bulk-enrolment CSV: exact header, one partner per row, lists separated by ';'."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from onboarding.domain.model import Code, Partner, Rejection
from onboarding.domain.validation import FIELDS, parse_partner

HEADER = FIELDS
LIST_FIELDS = frozenset({"territories", "exclusive_territories"})


class BadHeader(ValueError):
    """The file does not start with the expected header; no row can be read."""


class BadCsv(ValueError):
    """The file is not readable as CSV at all (e.g. NUL bytes)."""


@dataclass(frozen=True)
class Row:
    number: int  # 1-based record number in the file; the header is row 1
    request: Partner | Rejection


def _cells(value: str) -> list[str]:
    return [part for part in (p.strip() for p in value.split(";")) if part]


def parse_csv(text: str) -> list[Row]:
    """Rows in file order, each a canonical Partner or the rejection explaining why not."""
    try:
        return _parse(text)
    except csv.Error as exc:
        raise BadCsv(str(exc)) from None


def _parse(text: str) -> list[Row]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), strict=True)
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != HEADER:
        raise BadHeader(f"expected header: {','.join(HEADER)}")
    rows: list[Row] = []
    for number, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(HEADER):
            pid = record[0].strip() if record else ""
            detail = f"expected {len(HEADER)} columns, got {len(record)}"
            rows.append(Row(number, Rejection(Code.INVALID_ROW, detail, pid)))
            continue
        raw: dict[str, object] = {
            name: _cells(cell) if name in LIST_FIELDS else cell
            for name, cell in zip(HEADER, record, strict=True)
        }
        rows.append(Row(number, parse_partner(raw)))
    return rows
