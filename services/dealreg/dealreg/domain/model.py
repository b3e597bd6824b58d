"""Deal registration: requests, partners as dealreg knows them, protected deals and decisions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from dealreg.domain.customers import customer_key, normalize_domain, normalize_name


class Reason(StrEnum):
    UNKNOWN_PARTNER = "UNKNOWN_PARTNER"
    DISTRIBUTOR_CANNOT_REGISTER = "DISTRIBUTOR_CANNOT_REGISTER"
    NO_EVIDENCE = "NO_EVIDENCE"
    INVALID_REQUEST = "INVALID_REQUEST"
    DUPLICATE_DEAL_ID = "DUPLICATE_DEAL_ID"
    CONFLICT = "CONFLICT"


class Status(StrEnum):
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


@dataclass(frozen=True)
class Customer:
    name: str  # as submitted, trimmed
    country: str  # ISO 3166-1 alpha-2, upper case
    domain: str | None = None  # as submitted, trimmed

    @property
    def key(self) -> str:
        return customer_key(self.name, self.country)

    @property
    def name_key(self) -> str:
        return normalize_name(self.name)

    @property
    def domain_key(self) -> str | None:
        return normalize_domain(self.domain) if self.domain else None


@dataclass(frozen=True)
class Product:
    sku: str
    quantity: int


@dataclass(frozen=True)
class Evidence:
    contact_email: str | None = None
    meeting_on: date | None = None
    proposal_ref: str | None = None

    @property
    def given(self) -> bool:
        return any(v is not None for v in (self.contact_email, self.meeting_on, self.proposal_ref))


@dataclass(frozen=True)
class DealRequest:
    """A syntactically valid registration request."""

    deal_id: str
    partner_id: str
    customer: Customer
    products: tuple[Product, ...]
    estimated_value: Decimal  # cents, > 0
    currency: str
    expected_close_on: date
    evidence: Evidence
    registered_on: date

    @property
    def skus(self) -> frozenset[str]:
        return skus_of(p.sku for p in self.products)


def skus_of(skus: Iterable[str]) -> frozenset[str]:
    """SKUs compared for overlap: trimmed, case-insensitive."""
    return frozenset(s.strip().upper() for s in skus)


@dataclass(frozen=True)
class Partner:
    partner_id: str
    partner_type: str

    @property
    def is_distributor(self) -> bool:
        return self.partner_type == "DISTRIBUTOR"


@dataclass(frozen=True)
class ProtectedDeal:
    """An approved deal, as far as conflict detection needs it."""

    deal_id: str
    partner_id: str
    customer_key: str
    domain_key: str | None
    skus: frozenset[str]
    registered_on: date
    protection_expires_on: date


@dataclass(frozen=True)
class Decision:
    status: Status
    reason: Reason | None = None
    detail: str = ""
    protection_expires_on: date | None = None
    conflicting_deal_id: str | None = None

    @property
    def approved(self) -> bool:
        return self.status is Status.APPROVED


def rejected(reason: Reason, detail: str, conflicting_deal_id: str | None = None) -> Decision:
    return Decision(Status.REJECTED, reason, detail, conflicting_deal_id=conflicting_deal_id)


@dataclass(frozen=True)
class DealRecord:
    """A stored decision that owns its deal_id (every decision but INVALID and DUPLICATE)."""

    request: DealRequest
    decision: Decision
    decided_at: datetime | None = None
