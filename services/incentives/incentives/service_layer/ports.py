"""What the accrual handler needs from storage; the database adapter and the tests' fake."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Protocol

from incentives.domain.model import Awaited
from incentives.domain.rules import VolumeKey
from incentives.service_layer.facts import (
    DealFact,
    LineFact,
    PartnerFact,
    PendingRule,
    Posting,
    SkippedRule,
)


class Repository(Protocol):
    async def lock(self) -> None:
        """Serialise accrual batches (several instances must not interleave)."""

    async def add_partners(self, facts: list[PartnerFact]) -> list[PartnerFact]:
        """Store partners; returns those not known before."""

    async def add_deals(self, facts: list[DealFact]) -> list[DealFact]:
        """Store deals; returns those not known before (first registration of a deal_id wins)."""

    async def add_lines(
        self, facts: list[LineFact]
    ) -> tuple[list[LineFact], list[tuple[LineFact, str]]]:
        """Store lines; returns the new ones and the (line, earlier event id) pairs that repeat
        an already accepted report line under another event id. Known event ids are neither."""

    async def take_pending(
        self, awaited: list[tuple[Awaited, str]]
    ) -> list[tuple[PendingRule, LineFact]]:
        """Remove and return the rules waiting for any of these facts, with their lines."""

    async def partners(self, ids: set[str]) -> dict[str, PartnerFact]: ...

    async def deals(self, ids: set[str]) -> dict[str, DealFact]: ...

    async def volumes(self, keys: set[VolumeKey]) -> dict[VolumeKey, Decimal]:
        """Cumulative revenue so far per program version x distributor x period."""

    async def save(
        self,
        postings: list[Posting],
        pending: list[PendingRule],
        skipped: list[SkippedRule],
        volumes: dict[VolumeKey, Decimal],
    ) -> list[Posting]:
        """Record the outcome; returns the postings whose accrual ids were new."""

    async def stage(self, events: Iterable[dict[str, Any]]) -> None:
        """Stage RebateAccrued events for publication, in the same transaction."""
