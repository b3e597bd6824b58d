from __future__ import annotations

import io
from datetime import UTC, date, datetime

import fastavro
from channelstream_common import schemas
from onboarding.domain.model import Partner, PartnerType, Tier
from onboarding.service_layer.events import directory_row, partner_enrolled

PARTNER = Partner(
    partner_id="R-7",
    legal_name="Seven Ltd",
    partner_type=PartnerType.VAR,
    tier=Tier.PLATINUM,
    parent_distributor_id="D-1",
    territories=("GB", "IE"),
    exclusive_territories=(),
    enrolled_on=date(2026, 3, 9),
    contact_email="seven@example.co.uk",
)


def test_partner_enrolled_event_round_trips_through_the_avro_contract():
    event = partner_enrolled(PARTNER, correlation_id="upload-42")
    schema = schemas.parsed("PartnerEnrolled")
    out = io.BytesIO()
    fastavro.schemaless_writer(out, schema, event)
    decoded = fastavro.schemaless_reader(io.BytesIO(out.getvalue()), schema, schema)
    assert decoded["partner_type"] == "VAR"
    assert decoded["territories"] == ["GB", "IE"]
    assert decoded["enrolled_on"] == date(2026, 3, 9)
    assert decoded["metadata"]["producer"] == "onboarding"
    assert decoded["metadata"]["correlation_id"] == "upload-42"
    assert decoded["metadata"]["causation_id"] is None
    assert decoded["metadata"]["occurred_at"] == datetime(2026, 3, 9, tzinfo=UTC)


def test_directory_row_holds_exactly_what_the_event_says():
    event = partner_enrolled(PARTNER, correlation_id="c")
    row = directory_row(event)
    assert row == directory_row(event)
    assert row["event_id"] == event["metadata"]["event_id"]
    assert row["recorded_at"] == event["metadata"]["recorded_at"]
    assert {k: row[k] for k in ("partner_id", "parent_distributor_id", "tier")} == {
        "partner_id": "R-7",
        "parent_distributor_id": "D-1",
        "tier": "PLATINUM",
    }
