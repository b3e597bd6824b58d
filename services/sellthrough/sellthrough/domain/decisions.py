"""Deciding a batch of parsed lines: duplicates and conflicts first, then the rules."""

from __future__ import annotations

from collections.abc import Callable, Hashable, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

from sellthrough.domain.model import Hold, Reason, Rejection, SaleLine, ShipmentLine, Status
from sellthrough.domain.validation import Verdict, resubmission

L = TypeVar("L", bound=SaleLine | ShipmentLine)


@dataclass(slots=True)
class Decision(Generic[L]):
    status: Status
    line: L | None = None
    line_hash: str | None = None
    reason: Reason | None = None
    detail: str = ""


def decide(
    parsed: Sequence[L | Rejection],
    days: Sequence[date],
    accepted: MutableMapping[Hashable, str],
    check: Callable[[L, date], Verdict],
    hash_of: Callable[[L], str],
    *,
    expired: bool = False,
) -> list[Decision[L]]:
    """One decision per line, in order; `days[i]` is the date line i was received (its
    "today" for FUTURE_DATE). `accepted` maps the keys of already accepted lines to
    their content hash and is extended with the lines accepted here, so a line repeated within
    the batch is a duplicate (or a conflict) of its first occurrence. With `expired`, a line
    still waiting for a partner is refused instead of held."""
    out: list[Decision[L]] = []
    for line, day in zip(parsed, days, strict=True):
        if isinstance(line, Rejection):
            out.append(Decision(Status.REJECTED, reason=line.reason, detail=line.detail))
            continue
        digest = hash_of(line)
        previous = accepted.get(line.key)
        if previous is not None:
            conflict = resubmission(previous, digest)
            if conflict is None:
                out.append(Decision(Status.DUPLICATE, line, digest))
            else:
                out.append(
                    Decision(Status.REJECTED, line, digest, conflict.reason, conflict.detail)
                )
            continue
        verdict = check(line, day)
        if verdict is None:
            accepted[line.key] = digest
            out.append(Decision(Status.ACCEPTED, line, digest))
        elif isinstance(verdict, Hold) and not expired:
            out.append(Decision(Status.HELD, line, digest, verdict.reason, verdict.detail))
        else:
            detail = verdict.detail
            if isinstance(verdict, Hold):
                detail += " (grace period for its enrolment ran out)"
            out.append(Decision(Status.REJECTED, line, digest, verdict.reason, detail))
    return out
