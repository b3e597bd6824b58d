"""The accrual handler's storage in memory: for program what-if runs and the property tests.
Same contract as SqlRepository (see service_layer/ports.py), no transactions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from incentives.domain.model import Awaited, Reason
from incentives.domain.rules import VolumeKey
from incentives.domain.statement import Total
from incentives.service_layer.facts import (
    DealFact,
    LineFact,
    PartnerFact,
    PendingRule,
    Posting,
    SkippedRule,
)


class InMemoryRepository:
    def __init__(self) -> None:
        self.partner_facts: dict[str, PartnerFact] = {}
        self.deal_facts: dict[str, DealFact] = {}
        self.lines: dict[str, LineFact] = {}
        self.line_keys: dict[tuple[str, str, int], str] = {}
        self.volume: dict[VolumeKey, Decimal] = {}
        self.ledger: dict[str, Posting] = {}
        self.totals: dict[tuple[str, str, int, str, Reason], Total] = {}
        self.pending: dict[tuple[str, str, int, str], PendingRule] = {}
        self.skipped: dict[tuple[str, str, int, str], SkippedRule] = {}
        self.events: list[dict[str, Any]] = []

    async def lock(self) -> None:
        return None

    async def add_partners(self, facts: list[PartnerFact]) -> list[PartnerFact]:
        new = [f for f in facts if f.partner.partner_id not in self.partner_facts]
        self.partner_facts |= {f.partner.partner_id: f for f in new}
        return new

    async def add_deals(self, facts: list[DealFact]) -> list[DealFact]:
        new = [f for f in facts if f.deal.deal_id not in self.deal_facts]
        self.deal_facts |= {f.deal.deal_id: f for f in new}
        return new

    async def add_lines(
        self, facts: list[LineFact]
    ) -> tuple[list[LineFact], list[tuple[LineFact, str]]]:
        new, duplicates = [], []
        for f in facts:
            key = (f.line.distributor_id, f.line.report_id, f.line.line_no)
            if f.line.event_id in self.lines:
                continue
            if key in self.line_keys:
                duplicates.append((f, self.line_keys[key]))
                continue
            self.lines[f.line.event_id] = f
            self.line_keys[key] = f.line.event_id
            new.append(f)
        return new, duplicates

    async def take_pending(
        self, awaited: list[tuple[Awaited, str]]
    ) -> list[tuple[PendingRule, LineFact]]:
        wanted = set(awaited)
        taken = [p for p in self.pending.values() if (p.awaiting, p.key) in wanted]
        for p in taken:
            del self.pending[(p.line_event_id, p.program_id, p.program_version, p.rule.value)]
        return [(p, self.lines[p.line_event_id]) for p in taken]

    async def partners(self, ids: set[str]) -> dict[str, PartnerFact]:
        return {i: self.partner_facts[i] for i in ids if i in self.partner_facts}

    async def deals(self, ids: set[str]) -> dict[str, DealFact]:
        return {i: self.deal_facts[i] for i in ids if i in self.deal_facts}

    async def volumes(self, keys: set[VolumeKey]) -> dict[VolumeKey, Decimal]:
        return {k: self.volume[k] for k in keys if k in self.volume}

    async def save(
        self,
        postings: list[Posting],
        pending: list[PendingRule],
        skipped: list[SkippedRule],
        volumes: dict[VolumeKey, Decimal],
    ) -> list[Posting]:
        saved = [p for p in postings if p.accrual.accrual_id not in self.ledger]
        sums: dict[tuple[str, str, int, str, Reason], list[Any]] = defaultdict(list)
        for p in saved:
            a = p.accrual
            self.ledger[a.accrual_id] = p
            sums[(a.partner_id, a.program_id, a.program_version, a.period, a.reason)].append(a)
        for key, items in sums.items():
            old = self.totals.get(key)
            self.totals[key] = Total(
                *key[:4],
                reason=key[4],
                currency=items[0].currency,
                amount=(old.amount if old else Decimal(0)) + sum(a.amount for a in items),
                accruals=(old.accruals if old else 0) + len(items),
            )
        for r in pending:
            self.pending.setdefault(
                (r.line_event_id, r.program_id, r.program_version, r.rule.value), r
            )
        for s in skipped:
            self.skipped.setdefault((s.line_event_id, s.program_id, s.program_version, s.rule), s)
        self.volume |= volumes
        return saved

    async def stage(self, events: Iterable[dict[str, Any]]) -> None:
        self.events += events

    def totals_for(self, partner_id: str, period: str) -> list[Total]:
        return [
            t
            for (pid, _, _, per, _), t in sorted(self.totals.items())
            if pid == partner_id and per == period
        ]
