"""Apply a batch of partner, deal and line events to the rebate ledger.

Order-independence across topics: facts (partners, deals) are stored before lines are evaluated,
and a rule that needs a fact not yet known waits in `pending_rules` until that fact arrives; a
distributor's lines are always applied in log order (its topic is keyed by distributor, and
released lines are merged back by log position), so amounts never depend on arrival order.

The cause of an accrual is the latest-recorded event it depends on (the line; the deal for a bonus;
the partner when a tier table applies): a bonus for a line that came before its deal is caused by
the DealRegistered. Chosen by recorded_at, not by arrival, so replays reproduce it exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from incentives.domain.model import Awaited, Rule
from incentives.domain.programs import Program
from incentives.domain.rules import (
    Accrued,
    Awaiting,
    applicable_rules,
    evaluate,
    partner_needed,
)
from incentives.service_layer.events import rebate_accrued
from incentives.service_layer.facts import (
    Batch,
    DealFact,
    LineFact,
    PartnerFact,
    PendingRule,
    Posting,
    SkippedRule,
    Trigger,
)
from incentives.service_layer.ports import Repository

T = TypeVar("T")
RULE_ORDER = {rule: i for i, rule in enumerate(Rule)}


@dataclass(frozen=True)
class _Work:
    line: LineFact
    program: Program
    rule: Rule


def _first_of_each(items: Sequence[T], key: Callable[[T], Hashable]) -> list[T]:
    seen: set[Hashable] = set()
    out = []
    for item in items:
        k = key(item)
        if k not in seen:
            seen.add(k)
            out.append(item)
    return out


def _skip(line: LineFact, code: str, detail: str) -> SkippedRule:
    return SkippedRule(line.line.event_id, "-", 0, "-", code, detail)


async def accrue(batch: Batch, programs: Sequence[Program], repo: Repository) -> list[Posting]:
    """Returns the new postings (their events are staged in the same transaction)."""
    await repo.lock()
    partners = await repo.add_partners(
        _first_of_each(batch.partners, lambda f: f.partner.partner_id)
    )
    deals = await repo.add_deals(_first_of_each(batch.deals, lambda f: f.deal.deal_id))
    lines = sorted(batch.lines, key=lambda f: f.position)
    fresh, duplicates = await repo.add_lines(_first_of_each(lines, lambda f: f.line.event_id))
    awaited = [(Awaited.PARTNER, f.partner.partner_id) for f in partners]
    awaited += [(Awaited.DEAL, f.deal.deal_id) for f in deals]
    released = await repo.take_pending(sorted(awaited)) if awaited else []

    skipped = [
        _skip(
            line,
            "DUPLICATE_LINE",
            f"report {line.line.report_id} line {line.line.line_no} of {line.line.distributor_id}"
            f" was already accepted as event {first}",
        )
        for line, first in duplicates
    ]
    work: list[_Work] = []
    for lf in fresh:
        if not any(p.covers(lf.line.period) for p in programs):
            skipped.append(
                _skip(lf, "NO_PROGRAM_FOR_PERIOD", f"no loaded program covers {lf.line.period}")
            )
        work += [_Work(lf, p, r) for p in programs for r in applicable_rules(p, lf.line)]
    versions = {(p.program_id, p.version): p for p in programs}
    for pending, lf in released:
        program = versions.get((pending.program_id, pending.program_version))
        if program is None:
            skipped.append(
                SkippedRule(
                    lf.line.event_id, pending.program_id, pending.program_version,
                    pending.rule.value, "PROGRAM_NOT_LOADED",
                    "the program version this line was waiting for is no longer configured",
                )
            )  # fmt: skip
            continue
        work.append(_Work(lf, program, pending.rule))
    if released:  # the fresh lines' work is in this order already
        order = {(p.program_id, p.version): i for i, p in enumerate(programs)}
        work.sort(
            key=lambda w: (
                w.line.position,
                order[(w.program.program_id, w.program.version)],
                RULE_ORDER[w.rule],
            )
        )
    return await _evaluate(work, skipped, repo)


def _cause(w: _Work, partners: dict[str, PartnerFact], deals: dict[str, DealFact]) -> Trigger:
    line = w.line.line
    causes = [w.line.trigger]
    if w.rule is Rule.DEAL_REG_BONUS:
        assert line.deal_id is not None and w.program.bonus is not None
        causes.append(deals[line.deal_id].trigger)
        if w.program.bonus.needs_partner:
            causes.append(partners[line.reseller_id].trigger)
    elif w.program.volume is not None and w.program.volume.needs_partner:
        causes.append(partners[line.distributor_id].trigger)
    if len(causes) == 1:
        return causes[0]
    return max(causes, key=lambda t: (t.recorded_at, t.event_id))


async def _evaluate(
    work: list[_Work], skipped: list[SkippedRule], repo: Repository
) -> list[Posting]:
    lines = [w.line.line for w in work]
    needed = (partner_needed(w.program, w.rule, line) for w, line in zip(work, lines, strict=True))
    partners = await repo.partners({p for p in needed if p is not None})
    deals = await repo.deals(
        {
            x.deal_id
            for w, x in zip(work, lines, strict=True)
            if w.rule is Rule.DEAL_REG_BONUS and x.deal_id
        }
    )
    volumes = await repo.volumes(
        {
            (w.program.program_id, w.program.version, line.distributor_id, line.period)
            for w, line in zip(work, lines, strict=True)
            if w.rule is Rule.DISTRIBUTOR_VOLUME
        }
    )
    known_partners = {k: f.partner for k, f in partners.items()}
    known_deals = {k: f.deal for k, f in deals.items()}
    before = dict(volumes)
    postings: list[Posting] = []
    pending: list[PendingRule] = []
    for w in work:
        outcome = evaluate(w.program, w.rule, w.line.line, known_partners, known_deals, volumes)
        if isinstance(outcome, Accrued):
            cause = _cause(w, partners, deals)
            postings += [Posting(a, w.line, cause) for a in outcome.accruals]
        elif isinstance(outcome, Awaiting):
            pending.append(
                PendingRule(
                    w.line.line.event_id, w.program.program_id, w.program.version, w.rule,
                    outcome.kind, outcome.key,
                )
            )  # fmt: skip
        else:
            skipped.append(
                SkippedRule(
                    w.line.line.event_id, w.program.program_id, w.program.version, w.rule.value,
                    outcome.code, outcome.detail,
                )
            )  # fmt: skip
    changed = {k: v for k, v in volumes.items() if before.get(k) != v}
    saved = await repo.save(postings, pending, skipped, changed)
    await repo.stage(rebate_accrued(p) for p in saved)  # not built when a replay discards
    return saved
