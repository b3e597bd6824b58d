"""RegisterDeal: validate, wait briefly for the partner, decide under the customer's lock."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date

from channelstream_common.events import new_metadata
from channelstream_common.settings import Settings
from prometheus_client import Counter

from dealreg.adapters import events
from dealreg.adapters.repository import DealRepository
from dealreg.domain.model import DealRecord, DealRequest, Decision, Reason, rejected
from dealreg.domain.rules import DEFAULT_PROTECTION_DAYS, decide
from dealreg.domain.validation import InvalidRequest, decode_body, parse_request

PRODUCER = "dealreg"
DECISIONS = Counter("dealreg_decisions_total", "Deal registration decisions", ["status", "reason"])


@dataclass(frozen=True)
class Config:
    protection_days: int = DEFAULT_PROTECTION_DAYS
    partner_wait_seconds: float = 3.0
    partner_poll_seconds: float = 0.05

    @classmethod
    def from_settings(cls, settings: Settings) -> Config:
        """CHANNELSTREAM_DEALREG_PROTECTION_DAYS, CHANNELSTREAM_DEALREG_PARTNER_WAIT_SECONDS."""
        days = settings.integer("protection_days", DEFAULT_PROTECTION_DAYS, at_least=0)
        return cls(
            protection_days=days, partner_wait_seconds=settings.seconds("partner_wait_seconds", 3.0)
        )


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    deal_id: str
    deal: DealRecord | None = None  # set when the decision owns deal_id (stored, GET-able)
    fields: dict[str, str] = field(default_factory=dict)  # INVALID_REQUEST: path -> problem
    repeated: bool = False  # an identical re-send of a decided request: no new event


def lock_keys(request: DealRequest) -> list[str]:
    """Every identity a conflicting request could share with this one: the deal id, the
    name-and-country key and, when given, the domain. Two requests that can conflict always
    share at least one key, so their decisions are serialized."""
    keys = [f"deal:{request.deal_id}", f"customer:{request.customer.key}"]
    if request.customer.domain_key:
        keys.append(f"domain:{request.customer.domain_key}")
    return keys


class Registrar:
    def __init__(self, repository: DealRepository, config: Config) -> None:
        self.repo = repository
        self.config = config

    async def register(
        self, body: str, *, today: date, correlation_id: str | None = None
    ) -> Outcome:
        """Decide one request (JSON text); the decision and its event commit together."""
        doc = decode_body(body)
        parsed = doc if isinstance(doc, InvalidRequest) else parse_request(doc, today=today)
        if isinstance(parsed, InvalidRequest):
            return await self._refuse(parsed, body, correlation_id)
        await self.await_partner(parsed)
        return await self._decide(parsed, body, correlation_id)

    async def await_partner(self, request: DealRequest) -> None:
        """Event lag: dealreg knows partners only from PartnerEnrolled events, so a partner
        enrolled a moment ago may not be in the projection yet. When it is missing, poll the
        projection for up to `partner_wait_seconds` (default 3 s) before deciding; only a
        partner still unknown after that is refused UNKNOWN_PARTNER. The wait happens before
        any lock is taken, and is skipped when the deal_id is already decided."""
        if await self.repo.partner(request.partner_id) is not None:
            return
        if await self.repo.deal_exists(request.deal_id):
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.partner_wait_seconds
        while await self.repo.partner(request.partner_id) is None:
            if loop.time() >= deadline:
                return
            await asyncio.sleep(self.config.partner_poll_seconds)

    async def _decide(self, request: DealRequest, body: str, correlation_id: str | None) -> Outcome:
        metadata = new_metadata(PRODUCER, correlation_id=correlation_id)
        async with self.repo.deciding() as tx:
            await tx.lock(lock_keys(request))
            stored = await tx.stored(request.deal_id)
            if stored is not None and stored.request == request:
                # clients resend (retries, re-run imports): answer the decision already made
                return Outcome(stored.decision, request.deal_id, stored, repeated=True)
            decision = decide(
                request,
                partner=await tx.partner(request.partner_id),
                existing=await tx.deal_status(request.deal_id),
                held=await tx.protected_deals(request),
                protection_days=self.config.protection_days,
            )
            deal = None
            if decision.reason is not Reason.DUPLICATE_DEAL_ID:
                decided_at = await tx.record(request, decision, metadata["event_id"])
                deal = DealRecord(request, decision, decided_at)
            if decision.approved:
                assert decision.protection_expires_on is not None
                event = events.deal_registered(request, decision.protection_expires_on, metadata)
            else:
                event = events.registration_rejected(request, decision, body, metadata)
            await tx.stage([event])
        _count(decision)
        return Outcome(decision, request.deal_id, deal)

    async def _refuse(
        self, invalid: InvalidRequest, body: str, correlation_id: str | None
    ) -> Outcome:
        decision = rejected(Reason.INVALID_REQUEST, invalid.detail)
        metadata = new_metadata(PRODUCER, correlation_id=correlation_id)
        async with self.repo.deciding() as tx:
            await tx.stage([events.registration_rejected(invalid, decision, body, metadata)])
        _count(decision)
        return Outcome(decision, invalid.deal_id, fields=dict(invalid.errors))


def _count(decision: Decision) -> None:
    reason = decision.reason.value if decision.reason else ""
    DECISIONS.labels(decision.status.value, reason).inc()
