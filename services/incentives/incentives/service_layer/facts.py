"""What the accrual handler consumes and produces, with the provenance of each fact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from incentives.domain.model import Accrual, Awaited, Deal, Line, Partner, Rule


@dataclass(frozen=True)
class Trigger:
    """The event that caused an accrual: its metadata becomes the accrual's causation."""

    event_id: str
    correlation_id: str
    recorded_at: datetime
    trace_id: str | None
    topic: str  # registry name, without the deployment's topic prefix


@dataclass(frozen=True)
class PartnerFact:
    partner: Partner
    trigger: Trigger


@dataclass(frozen=True)
class DealFact:
    deal: Deal
    trigger: Trigger


@dataclass(frozen=True)
class LineFact:
    line: Line
    trigger: Trigger
    position: tuple[int, int]  # (partition, offset): a distributor's lines are applied in log order


@dataclass(frozen=True)
class Batch:
    partners: list[PartnerFact]
    deals: list[DealFact]
    lines: list[LineFact]


@dataclass(frozen=True)
class Posting:
    """An accrual, the line it was computed from and the event that triggered it."""

    accrual: Accrual
    line: LineFact
    trigger: Trigger


@dataclass(frozen=True)
class PendingRule:
    """A rule waiting for a fact (a deal registration, a partner enrolment) about a line."""

    line_event_id: str
    program_id: str
    program_version: int
    rule: Rule
    awaiting: Awaited
    key: str


@dataclass(frozen=True)
class SkippedRule:
    """A line a rule does not pay for, with a coded reason; program '-' when no rule applied."""

    line_event_id: str
    program_id: str
    program_version: int
    rule: str
    code: str
    detail: str
