"""Rebate statements: a partner's accruals for one quarter and the totals they sum to."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from incentives.domain.model import Accrual, Reason

REASON_ORDER = {reason: i for i, reason in enumerate(Reason)}


@dataclass(frozen=True)
class Total:
    """Running total of one partner x program version x period x reason."""

    partner_id: str
    program_id: str
    program_version: int
    period: str
    reason: Reason
    currency: str
    amount: Decimal
    accruals: int


@dataclass(frozen=True)
class ProgramTotal:
    program_id: str
    program_version: int
    currency: str
    by_reason: dict[Reason, Decimal]
    total: Decimal
    accruals: int


@dataclass(frozen=True)
class Statement:
    partner_id: str
    period: str
    lines: tuple[Accrual, ...]
    programs: tuple[ProgramTotal, ...]

    @property
    def totals_by_currency(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = defaultdict(Decimal)
        for p in self.programs:
            out[p.currency] += p.total
        return dict(sorted(out.items()))

    @property
    def currency(self) -> str | None:
        currencies = list(self.totals_by_currency)
        return currencies[0] if len(currencies) == 1 else None

    @property
    def total(self) -> Decimal | None:
        """The statement total, when it is in one currency (always, with one program)."""
        by_currency = self.totals_by_currency
        if not by_currency:
            return Decimal("0.00")
        return next(iter(by_currency.values())) if len(by_currency) == 1 else None

    def discrepancies(self) -> list[str]:
        """Where the lines do not sum to the stored totals (empty for a sound ledger)."""
        sums: dict[tuple[str, int, Reason], Decimal] = defaultdict(Decimal)
        for line in self.lines:
            sums[(line.program_id, line.program_version, line.reason)] += line.amount
        stored = {
            (p.program_id, p.program_version, reason): amount
            for p in self.programs
            for reason, amount in p.by_reason.items()
        }
        zero = Decimal(0)
        return [
            f"{key}: lines sum to {sums.get(key, zero)}, total says {stored.get(key, zero)}"
            for key in sorted(set(sums) | set(stored))
            if sums.get(key, zero) != stored.get(key, zero)
        ]


def build_statement(
    partner_id: str, period: str, lines: list[Accrual], totals: list[Total]
) -> Statement:
    grouped: dict[tuple[str, int, str], list[Total]] = defaultdict(list)
    for t in totals:
        grouped[(t.program_id, t.program_version, t.currency)].append(t)
    programs = tuple(
        ProgramTotal(
            program_id=pid,
            program_version=version,
            currency=currency,
            by_reason={
                t.reason: t.amount for t in sorted(rows, key=lambda t: REASON_ORDER[t.reason])
            },
            total=sum((t.amount for t in rows), Decimal("0.00")),
            accruals=sum(t.accruals for t in rows),
        )
        for (pid, version, currency), rows in sorted(grouped.items())
    )
    return Statement(partner_id, period, tuple(lines), programs)
