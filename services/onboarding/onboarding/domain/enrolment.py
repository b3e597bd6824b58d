"""Deciding enrolments against what is already enrolled, one request after another."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from onboarding.domain.model import Code, Outcome, Partner, PartnerType, Rejection, Status


@dataclass
class Registry:
    """The enrolled partners and exclusive-territory holders a batch of requests can touch.

    Deciding a request that is accepted records it here, so later requests of the same batch
    see it (a reseller may name a distributor enrolled earlier in the same file).
    """

    partners: dict[str, Partner] = field(default_factory=dict)
    exclusive_holders: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, partners: Iterable[Partner]) -> Registry:
        registry = cls()
        for partner in partners:
            registry._record(partner)
        return registry

    def _record(self, partner: Partner) -> None:
        self.partners[partner.partner_id] = partner
        for territory in partner.exclusive_territories:
            self.exclusive_holders[territory] = partner.partner_id

    def decide(self, candidate: Partner) -> Outcome:
        pid = candidate.partner_id
        existing = self.partners.get(pid)
        if existing is not None:
            if existing == candidate:
                return Outcome(
                    Status.UNCHANGED, pid, existing, None, "identical enrolment already recorded"
                )
            changed = ", ".join(existing.differences(candidate))
            detail = f"{pid} is already enrolled with different {changed}"
            return Outcome.rejected(Rejection(Code.PARTNER_EXISTS, detail, pid))
        if rejection := self._refusal(candidate):
            return Outcome.rejected(rejection)
        self._record(candidate)
        return Outcome(Status.ENROLLED, pid, candidate, None, "enrolled")

    def _refusal(self, candidate: Partner) -> Rejection | None:
        pid = candidate.partner_id
        parent_id = candidate.parent_distributor_id
        if candidate.is_distributor and parent_id is not None:
            return Rejection(
                Code.DISTRIBUTOR_HAS_PARENT,
                f"distributor {pid} cannot have a parent distributor ({parent_id})",
                pid,
            )
        if parent_id is not None:
            parent = self.partners.get(parent_id)
            if parent is None:
                return Rejection(
                    Code.UNKNOWN_PARENT, f"parent {parent_id} is not an enrolled partner", pid
                )
            if parent.partner_type is not PartnerType.DISTRIBUTOR:
                return Rejection(
                    Code.PARENT_NOT_DISTRIBUTOR,
                    f"parent {parent_id} is a {parent.partner_type}, not a DISTRIBUTOR",
                    pid,
                )
        taken = [
            f"{t} (held by {self.exclusive_holders[t]})"
            for t in candidate.exclusive_territories
            if t in self.exclusive_holders
        ]
        if taken:
            return Rejection(
                Code.EXCLUSIVE_TERRITORY_TAKEN,
                f"exclusive territory already held: {', '.join(taken)}",
                pid,
            )
        return None

    def decide_all(self, requests: Sequence[Partner | Rejection]) -> list[Outcome]:
        """Outcomes in request order; invalid requests stay rejected with their reason."""
        return [
            Outcome.rejected(r) if isinstance(r, Rejection) else self.decide(r) for r in requests
        ]


def referenced_ids(requests: Iterable[Partner | Rejection]) -> set[str]:
    """Partner ids whose enrolment state deciding `requests` needs."""
    ids: set[str] = set()
    for r in requests:
        if isinstance(r, Partner):
            ids.add(r.partner_id)
            if r.parent_distributor_id:
                ids.add(r.parent_distributor_id)
    return ids


def claimed_territories(requests: Iterable[Partner | Rejection]) -> set[str]:
    return {t for r in requests if isinstance(r, Partner) for t in r.exclusive_territories}
