"""The accrual rules: what one line earns under one rule of one program.

Distributor volume rebate (retroactive). With rate table T, E(R) = round_half_even(T(max(R, 0)) x R)
is the entitlement at cumulative revenue R. A line moves R0 to R1 and accrues E(R1) - E(R0), split:

    BASE         = round(T(R0) x R1) - round(T(R0) x R0)   the line at the old rate, measured as the
                                                           change of the entitlement at that rate
    TIER_TRUE_UP = round(T(R1) x R1) - round(T(R0) x R1)   the retroactive re-rating of all of R1;
                                                           only when T(R1) != T(R0)

so BASE + TIER_TRUE_UP = E(R1) - E(R0) to the cent, and a distributor's total for a quarter is
E(final R) whatever the order of its lines (the sum telescopes). BASE is the line revenue at the
old rate up to the cumulative rounding, which is carried instead of accumulating cent errors.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from decimal import Decimal

from channelstream_common.events import derived_id

from incentives.domain.model import Accrual, Awaited, Deal, Line, Partner, Reason, Rule, to_cents
from incentives.domain.programs import Program, RateTable

VolumeKey = tuple[str, int, str, str]  # program_id, program_version, distributor_id, period


@dataclass(frozen=True)
class Accrued:
    accruals: tuple[Accrual, ...]


@dataclass(frozen=True)
class Awaiting:
    """The rule needs a fact that has not arrived yet; evaluated again when it does."""

    kind: Awaited
    key: str


@dataclass(frozen=True)
class Skipped:
    """The rule does not pay for this line, and why (a stable code)."""

    code: str
    detail: str


Outcome = Accrued | Awaiting | Skipped


def entitlement(table: RateTable, revenue: Decimal) -> Decimal:
    return to_cents(table.rate(revenue) * revenue)


def volume_split(
    table: RateTable, before: Decimal, revenue: Decimal
) -> list[tuple[Reason, Decimal, Decimal, Decimal]]:
    """(reason, basis, rate, amount) parts of one line moving cumulative revenue by `revenue`."""
    after = before + revenue
    old, new = table.rate(before), table.rate(after)
    base = to_cents(old * after) - to_cents(old * before)
    parts = [(Reason.BASE, revenue, old, base)]
    if new != old:
        parts.append(
            (Reason.TIER_TRUE_UP, after, new - old, to_cents(new * after) - to_cents(old * after))
        )
    return parts


def deal_bonus(rate: Decimal, line: Line) -> Decimal:
    return to_cents(rate * line.quantity * line.unit_price)


def accrual_id(line_event_id: str, reason: Reason, program: Program) -> str:
    return derived_id(line_event_id, reason.value, program.program_id, program.version)


def applicable_rules(program: Program, line: Line) -> list[Rule]:
    """Rules of `program` that consider `line` at all (no record is kept for the others)."""
    if not program.covers(line.period):
        return []
    return [r for r in program.rules if r is Rule.DISTRIBUTOR_VOLUME or line.deal_id]


def partner_needed(program: Program, rule: Rule, line: Line) -> str | None:
    """The partner whose enrolment (tier) `rule` may look up for `line`, if any."""
    if rule is Rule.DISTRIBUTOR_VOLUME:
        return line.distributor_id if program.volume and program.volume.needs_partner else None
    return line.reseller_id if program.bonus and program.bonus.needs_partner else None


def _eligibility(program: Program, lines: frozenset[str] | None, line: Line) -> Skipped | None:
    if line.currency != program.currency:
        return Skipped(
            "CURRENCY_MISMATCH", f"line is in {line.currency}, program pays in {program.currency}"
        )
    if lines is not None and line.product_line not in lines:
        return Skipped(
            "PRODUCT_LINE_NOT_ELIGIBLE",
            f"product line {line.product_line!r} is not one of {sorted(lines)}",
        )
    return None


def evaluate(
    program: Program,
    rule: Rule,
    line: Line,
    partners: Mapping[str, Partner],
    deals: Mapping[str, Deal],
    volumes: MutableMapping[VolumeKey, Decimal],
) -> Outcome:
    """Apply one rule to one line; a volume accrual advances `volumes` for its distributor."""
    if rule is Rule.DISTRIBUTOR_VOLUME:
        return _volume(program, line, partners, volumes)
    return _bonus(program, line, partners, deals)


def _volume(
    program: Program,
    line: Line,
    partners: Mapping[str, Partner],
    volumes: MutableMapping[VolumeKey, Decimal],
) -> Outcome:
    rule = program.volume
    assert rule is not None
    if skipped := _eligibility(program, rule.product_lines, line):
        return skipped
    tier = None
    if rule.needs_partner:
        partner = partners.get(line.distributor_id)
        if partner is None:
            return Awaiting(Awaited.PARTNER, line.distributor_id)
        tier = partner.tier
    table = rule.table_for(tier)
    if table is None:
        return Skipped("TIER_NOT_ELIGIBLE", f"no volume rate table for tier {tier}")
    key = (program.program_id, program.version, line.distributor_id, line.period)
    before = volumes.get(key, Decimal(0))
    after = before + line.revenue
    volumes[key] = after
    return Accrued(
        tuple(
            Accrual(
                accrual_id=accrual_id(line.event_id, reason, program),
                partner_id=line.distributor_id,
                program_id=program.program_id,
                program_version=program.version,
                currency=program.currency,
                period=line.period,
                reason=reason,
                basis_amount=basis,
                rate=rate,
                amount=amount,
                line_event_id=line.event_id,
                deal_id=None,
                sold_on=line.sold_on,
                running_before=before,
                running_after=after,
            )
            for reason, basis, rate, amount in volume_split(table, before, line.revenue)
        )
    )


def _bonus(
    program: Program, line: Line, partners: Mapping[str, Partner], deals: Mapping[str, Deal]
) -> Outcome:
    rule = program.bonus
    assert rule is not None and line.deal_id is not None
    if skipped := _eligibility(program, rule.product_lines, line):
        return skipped
    deal = deals.get(line.deal_id)
    if deal is None:
        return Awaiting(Awaited.DEAL, line.deal_id)
    if deal.partner_id != line.reseller_id:
        return Skipped(
            "DEAL_NOT_FOR_RESELLER",
            f"deal {deal.deal_id} is registered to {deal.partner_id}, not {line.reseller_id}",
        )
    if not deal.protects(line.sold_on):
        return Skipped(
            "SOLD_OUTSIDE_PROTECTION",
            f"sold on {line.sold_on}, deal {deal.deal_id} protects "
            f"{deal.registered_on}..{deal.protection_expires_on}",
        )
    tier = None
    if rule.needs_partner:
        partner = partners.get(line.reseller_id)
        if partner is None:
            return Awaiting(Awaited.PARTNER, line.reseller_id)
        tier = partner.tier
    rate = rule.rate_for(tier)
    if rate is None:
        return Skipped("TIER_NOT_ELIGIBLE", f"no deal-registration bonus rate for tier {tier}")
    return Accrued(
        (
            Accrual(
                accrual_id=accrual_id(line.event_id, Reason.DEAL_REG_BONUS, program),
                partner_id=line.reseller_id,
                program_id=program.program_id,
                program_version=program.version,
                currency=program.currency,
                period=line.period,
                reason=Reason.DEAL_REG_BONUS,
                basis_amount=line.revenue,
                rate=rate,
                amount=deal_bonus(rate, line),
                line_event_id=line.event_id,
                deal_id=line.deal_id,
                sold_on=line.sold_on,
            ),
        )
    )
