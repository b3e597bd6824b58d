"""Rebate programs: parsed from configuration documents into immutable rules.

A document (one YAML file) describes one version of one program; every key is checked, so a typo
in the configuration stops the service instead of silently changing what is paid.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from incentives.domain.model import Rule

TIERS = ("REGISTERED", "SILVER", "GOLD", "PLATINUM")
_PERIOD = re.compile(r"^[0-9]{4}-Q[1-4]$")
_PROGRAM_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class ProgramError(ValueError):
    """A program document that cannot be used, with the reason."""


@dataclass(frozen=True)
class RateTable:
    """Brackets of (lower bound of cumulative revenue, rate), ascending, the first from 0."""

    brackets: tuple[tuple[Decimal, Decimal], ...]

    def rate(self, revenue: Decimal) -> Decimal:
        revenue = max(revenue, Decimal(0))
        chosen = self.brackets[0][1]
        for lower, rate in self.brackets:
            if revenue >= lower:
                chosen = rate
        return chosen


@dataclass(frozen=True)
class VolumeRebate:
    """Retroactive distributor volume rebate; `by_tier` tables override `default` per tier."""

    default: RateTable | None
    by_tier: Mapping[str, RateTable] = field(default_factory=dict)
    product_lines: frozenset[str] | None = None

    @property
    def needs_partner(self) -> bool:
        return bool(self.by_tier)

    def table_for(self, tier: str | None) -> RateTable | None:
        if tier is not None and tier in self.by_tier:
            return self.by_tier[tier]
        return self.default


@dataclass(frozen=True)
class DealBonus:
    """Reseller deal-registration bonus: a rate of the line revenue."""

    default: Decimal | None
    by_tier: Mapping[str, Decimal] = field(default_factory=dict)
    product_lines: frozenset[str] | None = None

    @property
    def needs_partner(self) -> bool:
        return bool(self.by_tier)

    def rate_for(self, tier: str | None) -> Decimal | None:
        if tier is not None and tier in self.by_tier:
            return self.by_tier[tier]
        return self.default


@dataclass(frozen=True)
class Program:
    program_id: str
    version: int
    name: str
    currency: str
    volume: VolumeRebate | None = None
    bonus: DealBonus | None = None
    valid_from: str | None = None  # first period (inclusive), e.g. 2026-Q1
    valid_to: str | None = None  # last period (inclusive)

    def covers(self, period: str) -> bool:
        return (self.valid_from is None or period >= self.valid_from) and (
            self.valid_to is None or period <= self.valid_to
        )

    @property
    def rules(self) -> tuple[Rule, ...]:
        found = []
        if self.volume is not None:
            found.append(Rule.DISTRIBUTOR_VOLUME)
        if self.bonus is not None:
            found.append(Rule.DEAL_REG_BONUS)
        return tuple(found)


def _keys(doc: Mapping[str, Any], where: str, allowed: set[str], required: set[str]) -> None:
    if not isinstance(doc, Mapping):
        raise ProgramError(f"{where}: expected a mapping")
    unknown = sorted(set(doc) - allowed)
    if unknown:
        raise ProgramError(f"{where}: unknown key(s) {', '.join(unknown)}")
    missing = sorted(required - set(doc))
    if missing:
        raise ProgramError(f"{where}: missing key(s) {', '.join(missing)}")


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ProgramError(f"{where}: expected a number, got {value!r}")
    try:
        parsed = Decimal(str(value))
    except InvalidOperation:
        raise ProgramError(f"{where}: expected a number, got {value!r}") from None
    if not parsed.is_finite():
        raise ProgramError(f"{where}: expected a finite number, got {value!r}")
    return parsed


def _rate(value: Any, where: str) -> Decimal:
    rate = _decimal(value, where)
    if not Decimal(0) <= rate < Decimal(1):
        raise ProgramError(f"{where}: a rate is a fraction in [0, 1), got {value!r}")
    if rate != rate.quantize(Decimal("0.000001")):
        raise ProgramError(f"{where}: at most 6 decimal places, got {value!r}")
    return rate


def _table(doc: Any, where: str) -> RateTable:
    if not isinstance(doc, list) or not doc:
        raise ProgramError(f"{where}: expected a non-empty list of {{from, rate}} brackets")
    brackets = []
    for i, item in enumerate(doc):
        _keys(item, f"{where}[{i}]", {"from", "rate"}, {"from", "rate"})
        lower = _decimal(item["from"], f"{where}[{i}].from")
        brackets.append((lower, _rate(item["rate"], f"{where}[{i}].rate")))
    lowers = [b[0] for b in brackets]
    if lowers[0] != 0:
        raise ProgramError(f"{where}: the first bracket must start from 0")
    if any(b <= a for a, b in itertools.pairwise(lowers)):
        raise ProgramError(f"{where}: bracket lower bounds must strictly increase")
    return RateTable(tuple(brackets))


def _tiers(doc: Any, where: str) -> dict[str, Any]:
    if not isinstance(doc, Mapping):
        raise ProgramError(f"{where}: expected a mapping of tier to value")
    unknown = sorted(str(t) for t in doc if t not in TIERS)
    if unknown:
        raise ProgramError(f"{where}: unknown tier(s) {', '.join(unknown)}; tiers are {TIERS}")
    return dict(doc)


def _product_lines(doc: Any, where: str) -> frozenset[str] | None:
    if doc is None:
        return None
    if not isinstance(doc, list) or not doc or not all(isinstance(x, str) for x in doc):
        raise ProgramError(f"{where}: expected a non-empty list of product line names")
    return frozenset(doc)


def _volume(doc: Any, where: str) -> VolumeRebate:
    _keys(doc, where, {"retroactive", "rates", "rates_by_tier", "product_lines"}, set())
    if doc.get("retroactive", True) is not True:
        raise ProgramError(f"{where}.retroactive: only retroactive volume rebates are supported")
    default = _table(doc["rates"], f"{where}.rates") if "rates" in doc else None
    by_tier = {
        tier: _table(table, f"{where}.rates_by_tier.{tier}")
        for tier, table in sorted(
            _tiers(doc.get("rates_by_tier", {}), f"{where}.rates_by_tier").items()
        )
    }
    if default is None and not by_tier:
        raise ProgramError(f"{where}: needs rates or rates_by_tier")
    lines = _product_lines(doc.get("product_lines"), f"{where}.product_lines")
    return VolumeRebate(default, by_tier, lines)


def _bonus(doc: Any, where: str) -> DealBonus:
    _keys(doc, where, {"rate", "rate_by_tier", "product_lines"}, set())
    default = _rate(doc["rate"], f"{where}.rate") if "rate" in doc else None
    by_tier = {
        tier: _rate(rate, f"{where}.rate_by_tier.{tier}")
        for tier, rate in sorted(
            _tiers(doc.get("rate_by_tier", {}), f"{where}.rate_by_tier").items()
        )
    }
    if default is None and not by_tier:
        raise ProgramError(f"{where}: needs rate or rate_by_tier")
    lines = _product_lines(doc.get("product_lines"), f"{where}.product_lines")
    return DealBonus(default, by_tier, lines)


def _period(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _PERIOD.match(value):
        raise ProgramError(f"{where}: expected a quarter like 2026-Q1, got {value!r}")
    return value


def parse_program(doc: Any, source: str = "program") -> Program:
    """One program version from its configuration document."""
    _keys(
        doc,
        source,
        {
            "id", "version", "name", "currency", "period", "valid_from", "valid_to",
            "distributor_volume_rebate", "deal_registration_bonus",
        },
        {"id", "version", "currency"},
    )  # fmt: skip
    program_id, version, currency = doc["id"], doc["version"], doc["currency"]
    if not isinstance(program_id, str) or not _PROGRAM_ID.match(program_id):
        raise ProgramError(f"{source}.id: lowercase letters, digits and '-', got {program_id!r}")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ProgramError(f"{source}.version: a positive integer, got {version!r}")
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise ProgramError(f"{source}.currency: an ISO 4217 code, got {currency!r}")
    if doc.get("period", "calendar-quarter") != "calendar-quarter":
        raise ProgramError(f"{source}.period: only calendar-quarter is supported")
    volume_doc, bonus_doc = doc.get("distributor_volume_rebate"), doc.get("deal_registration_bonus")
    if volume_doc is None and bonus_doc is None:
        raise ProgramError(f"{source}: defines no rule")
    program = Program(
        program_id=program_id,
        version=version,
        name=str(doc.get("name", program_id)),
        currency=currency,
        volume=_volume(volume_doc, f"{source}.distributor_volume_rebate") if volume_doc else None,
        bonus=_bonus(bonus_doc, f"{source}.deal_registration_bonus") if bonus_doc else None,
        valid_from=_period(doc.get("valid_from"), f"{source}.valid_from"),
        valid_to=_period(doc.get("valid_to"), f"{source}.valid_to"),
    )
    if program.valid_from and program.valid_to and program.valid_from > program.valid_to:
        raise ProgramError(f"{source}: valid_from is after valid_to")
    return program


def check_catalogue(programs: list[Program]) -> tuple[Program, ...]:
    """Programs in a stable order; refuses duplicates and versions of one id that overlap."""
    ordered = sorted(programs, key=lambda p: (p.program_id, p.version))
    for a, b in itertools.pairwise(ordered):
        if a.program_id != b.program_id:
            continue
        if a.version == b.version:
            raise ProgramError(f"program {a.program_id} version {a.version} is defined twice")
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if a.program_id == b.program_id and _overlap(a, b):
                raise ProgramError(
                    f"program {a.program_id}: versions {a.version} and {b.version} cover "
                    "overlapping periods; give each version valid_from/valid_to"
                )
    return tuple(ordered)


def _overlap(a: Program, b: Program) -> bool:
    starts_before_b_ends = b.valid_to is None or a.valid_from is None or a.valid_from <= b.valid_to
    ends_after_b_starts = a.valid_to is None or b.valid_from is None or a.valid_to >= b.valid_from
    return starts_before_b_ends and ends_after_b_starts
