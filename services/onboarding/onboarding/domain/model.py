"""Partners of the two-tier channel program and the outcome of enrolling one."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from enum import StrEnum


class PartnerType(StrEnum):
    DISTRIBUTOR = "DISTRIBUTOR"
    RESELLER = "RESELLER"
    VAR = "VAR"
    MSP = "MSP"
    SI = "SI"
    ISV = "ISV"
    REFERRAL = "REFERRAL"


class Tier(StrEnum):
    REGISTERED = "REGISTERED"
    SILVER = "SILVER"
    GOLD = "GOLD"
    PLATINUM = "PLATINUM"


class Code(StrEnum):
    """Stable reasons an enrolment is refused."""

    INVALID_FIELD = "INVALID_FIELD"
    INVALID_ROW = "INVALID_ROW"
    PARTNER_EXISTS = "PARTNER_EXISTS"
    UNKNOWN_PARENT = "UNKNOWN_PARENT"
    PARENT_NOT_DISTRIBUTOR = "PARENT_NOT_DISTRIBUTOR"
    DISTRIBUTOR_HAS_PARENT = "DISTRIBUTOR_HAS_PARENT"
    EXCLUSIVE_TERRITORY_TAKEN = "EXCLUSIVE_TERRITORY_TAKEN"


class Status(StrEnum):
    ENROLLED = "enrolled"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Partner:
    """A partner in canonical form: territories sorted and unique, text trimmed."""

    partner_id: str
    legal_name: str
    partner_type: PartnerType
    tier: Tier
    parent_distributor_id: str | None
    territories: tuple[str, ...]
    exclusive_territories: tuple[str, ...]
    enrolled_on: date
    contact_email: str

    @property
    def is_distributor(self) -> bool:
        return self.partner_type is PartnerType.DISTRIBUTOR

    def differences(self, other: Partner) -> list[str]:
        """Names of the fields in which `other` differs from this partner."""
        return [f.name for f in fields(self) if getattr(self, f.name) != getattr(other, f.name)]


@dataclass(frozen=True)
class Rejection:
    code: Code
    detail: str
    partner_id: str = ""


@dataclass(frozen=True)
class Outcome:
    status: Status
    partner_id: str
    partner: Partner | None = None
    code: Code | None = None
    detail: str = ""

    @classmethod
    def rejected(cls, rejection: Rejection) -> Outcome:
        return cls(Status.REJECTED, rejection.partner_id, None, rejection.code, rejection.detail)
