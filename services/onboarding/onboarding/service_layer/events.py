"""PartnerEnrolled: building it from a partner, and reading it back into the directory."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from channelstream_common.events import new_metadata

from onboarding.domain.model import Partner

PRODUCER = "onboarding"


def partner_enrolled(partner: Partner, *, correlation_id: str) -> dict[str, Any]:
    """The event; the business fact happens on `enrolled_on` (midnight UTC)."""
    metadata = new_metadata(
        PRODUCER,
        correlation_id=correlation_id,
        occurred_at=datetime.combine(partner.enrolled_on, time(0), UTC),
    )
    return {
        "metadata": metadata,
        "partner_id": partner.partner_id,
        "legal_name": partner.legal_name,
        "partner_type": partner.partner_type.value,
        "tier": partner.tier.value,
        "parent_distributor_id": partner.parent_distributor_id,
        "territories": list(partner.territories),
        "exclusive_territories": list(partner.exclusive_territories),
        "enrolled_on": partner.enrolled_on,
        "contact_email": partner.contact_email,
    }


def directory_row(event: dict[str, Any]) -> dict[str, Any]:
    """A directory row holding exactly what the event says (replays give identical rows)."""
    return {
        "partner_id": event["partner_id"],
        "legal_name": event["legal_name"],
        "partner_type": event["partner_type"],
        "tier": event["tier"],
        "parent_distributor_id": event["parent_distributor_id"],
        "territories": list(event["territories"]),
        "exclusive_territories": list(event["exclusive_territories"]),
        "enrolled_on": event["enrolled_on"],
        "contact_email": event["contact_email"],
        "event_id": event["metadata"]["event_id"],
        "recorded_at": event["metadata"]["recorded_at"],
    }
