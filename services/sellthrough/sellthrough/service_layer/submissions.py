"""A submitted line with its provenance, and the per-upload tally of what became of lines."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sellthrough.domain.model import Kind, Rejection, Status
from sellthrough.domain.parsing import RawFields

HTTP, CLI, KAFKA = "HTTP", "CLI", "KAFKA"


@dataclass(frozen=True, slots=True)
class Source:
    """Where a line came from; shared by every line of one upload (or one intake event)."""

    kind: Kind
    upload_id: str
    ingestion_path: str
    submitted_by: str
    causation_id: str | None
    received_on: date
    held_at: datetime | None = None  # set when a held line is decided again


@dataclass(slots=True)
class Submitted:
    """One raw line. `problem` is set when it could not even be split into fields."""

    fields: RawFields | None
    problem: Rejection | None
    raw_line: str
    origin: str  # unique per submitted line: "<upload_id>:<line>" or "<topic>/<partition>@<offset>"
    source: Source


@dataclass
class Tally:
    lines: int = 0
    accepted: int = 0
    duplicates: int = 0
    held: int = 0
    rejected: Counter[str] = field(default_factory=Counter)

    def count(self, status: Status, reason: str | None, *, fresh: bool) -> None:
        """Count one decision; a line decided again after a hold leaves `held`."""
        if fresh:
            self.lines += 1
        else:
            self.held -= 1
        if status is Status.ACCEPTED:
            self.accepted += 1
        elif status is Status.DUPLICATE:
            self.duplicates += 1
        elif status is Status.HELD:
            self.held += 1
        else:
            self.rejected[str(reason)] += 1

    def add(self, other: Tally) -> None:
        self.lines += other.lines
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.held += other.held
        self.rejected.update(other.rejected)

    def as_json(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "held": self.held,
            "rejected": {r: n for r, n in sorted(self.rejected.items()) if n},
        }
