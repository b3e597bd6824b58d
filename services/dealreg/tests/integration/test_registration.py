"""Deal registration over real HTTP, Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from decimal import Decimal

import pytest
from channelstream_common import testing
from channelstream_common.topics import DEAL_REJECTED

pytestmark = pytest.mark.integration


async def test_enrolled_partner_is_learned_from_its_event_and_its_deal_approved(
    dealreg, onboarding, http, deal, topics
):
    partner = await onboarding.enrol("VAR")
    body = deal(
        partner,
        customer={"name": "Globex Corporation", "country": "de", "domain": "https://www.globex.de"},
        estimated_value=1234.5,
        registered_on="2026-11-02",
    )
    r = await http.post(f"{dealreg.url}/deals", json=body)

    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"/deals/{body['deal_id']}"
    approved = r.json()
    assert approved["status"] == "APPROVED"
    assert approved["deal"]["protection_expires_on"] == "2027-01-31"
    assert approved["deal"]["customer_key"] == "globex|DE"
    assert approved["deal"]["estimated_value"] == "1234.50"
    shown = (await http.get(f"{dealreg.url}/deals/{body['deal_id']}")).json()
    assert shown == approved["deal"]
    known = await http.get(f"{dealreg.url}/partners/{partner}")
    assert known.json() == {"partner_id": partner, "partner_type": "VAR"}
    unknown = await http.get(f"{dealreg.url}/partners/NOBODY-{partner}")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "PARTNER_NOT_FOUND")

    registered, refused = await topics.decisions({body["deal_id"]}, 1)
    assert refused == []
    [event] = registered
    assert event["_key"] == b"globex|DE"
    assert event["partner_id"] == partner
    assert event["customer"] == {
        "name": "Globex Corporation",
        "country": "DE",
        "domain": "https://www.globex.de",
    }
    assert event["estimated_value"] == Decimal("1234.50")
    assert event["registered_on"] == date(2026, 11, 2)
    assert event["protection_expires_on"] == date(2027, 1, 31)
    assert event["evidence"]["contact_email"] == "cto@initech.example"
    assert event["metadata"]["producer"] == "dealreg"


async def test_every_rejection_reason_is_answered_stored_and_published(
    launch, onboarding, http, deal, topics
):
    dealreg = await launch(extra={"partner_wait_seconds": "0.3"})
    reseller = await onboarding.enrol_known(dealreg, "RESELLER")
    rival = await onboarding.enrol_known(dealreg, "MSP")
    distributor = await onboarding.enrol_known(dealreg, "DISTRIBUTOR")
    holder = deal(rival, customer={"name": "Umbrella Corp", "country": "GB"})
    assert (await http.post(f"{dealreg.url}/deals", json=holder)).status_code == 201

    cases = {
        "UNKNOWN_PARTNER": (deal("NOT-ENROLLED"), 200),
        "DISTRIBUTOR_CANNOT_REGISTER": (deal(distributor), 200),
        "NO_EVIDENCE": (deal(reseller, evidence={"contact_email": ""}), 200),
        "CONFLICT": (deal(reseller, customer={"name": "UMBRELLA corp.", "country": "GB"}), 409),
        "DUPLICATE_DEAL_ID": (deal(reseller, deal_id=holder["deal_id"]), 409),
        "INVALID_REQUEST": (deal(reseller, estimated_value="10.001", currency="US"), 422),
    }
    answers = {}
    for reason, (body, status) in cases.items():
        r = await http.post(f"{dealreg.url}/deals", json=body)
        assert r.status_code == status, (reason, r.text)
        answers[reason] = r.json()
        assert answers[reason]["status"] == "REJECTED"
        assert answers[reason]["reason"] == reason

    assert answers["CONFLICT"]["conflicting_deal_id"] == holder["deal_id"]
    assert answers["CONFLICT"]["error"]["code"] == "CONFLICT"
    assert rival in answers["CONFLICT"]["detail"]
    assert answers["INVALID_REQUEST"]["fields"] == {
        "estimated_value": "at most 2 decimal places",
        "currency": "'US' must be an ISO 4217 code like EUR",
    }
    assert "APPROVED" in answers["DUPLICATE_DEAL_ID"]["detail"]

    # decisions that own their deal_id are stored; the holder is still approved
    for reason in ("UNKNOWN_PARTNER", "DISTRIBUTOR_CANNOT_REGISTER", "NO_EVIDENCE", "CONFLICT"):
        stored = (await http.get(f"{dealreg.url}/deals/{cases[reason][0]['deal_id']}")).json()
        assert (stored["status"], stored["reason"]) == ("REJECTED", reason)
    kept = (await http.get(f"{dealreg.url}/deals/{holder['deal_id']}")).json()
    assert kept["status"] == "APPROVED"
    missing = await http.get(f"{dealreg.url}/deals/{cases['INVALID_REQUEST'][0]['deal_id']}")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "DEAL_NOT_FOUND"

    ids = {body["deal_id"] for body, _ in cases.values()} | {holder["deal_id"]}
    registered, refused = await topics.decisions(ids, 7)
    assert [e["deal_id"] for e in registered] == [holder["deal_id"]]
    assert sorted(e["reason"] for e in refused) == sorted(cases)
    by_reason = {e["reason"]: e for e in refused}
    assert by_reason["CONFLICT"]["conflicting_deal_id"] == holder["deal_id"]
    assert by_reason["INVALID_REQUEST"]["detail"].startswith("estimated_value: at most 2")
    assert by_reason["UNKNOWN_PARTNER"]["partner_id"] == "NOT-ENROLLED"
    assert by_reason["NO_EVIDENCE"]["customer"]["country"] == "US"
    assert json.loads(by_reason["INVALID_REQUEST"]["request_json"])["currency"] == "US"


async def test_unreadable_body_is_refused_with_a_code_and_published(dealreg, http, topics):
    r = await http.post(f"{dealreg.url}/deals", content=b"{not json")
    assert r.status_code == 422
    assert r.json()["reason"] == "INVALID_REQUEST"
    assert r.json()["error"]["code"] == "INVALID_REQUEST"
    assert "body" in r.json()["fields"]

    async def published() -> list[dict]:
        return [e for e in await topics.read(DEAL_REJECTED) if e["request_json"] == "{not json"]

    [event] = await testing.eventually(published)
    assert event["deal_id"] == "" and event["reason"] == "INVALID_REQUEST"


async def test_customer_is_free_again_after_the_protection_window(launch, onboarding, http, deal):
    dealreg = await launch(extra={"protection_days": "30"})
    first = await onboarding.enrol_known(dealreg)
    second = await onboarding.enrol_known(dealreg)
    customer = {"name": "Hooli GmbH", "country": "DE", "domain": "hooli.example"}

    def post(partner: str, day: str):
        return http.post(
            f"{dealreg.url}/deals",
            json=deal(partner, customer=customer, registered_on=day, expected_close_on=day),
        )

    held = await post(first, "2026-01-01")
    assert held.json()["deal"]["protection_expires_on"] == "2026-01-31"
    last_day = await post(second, "2026-01-31")
    assert last_day.status_code == 409
    assert last_day.json()["conflicting_deal_id"] == held.json()["deal_id"]
    day_after = await post(second, "2026-02-01")
    assert day_after.status_code == 201
    assert day_after.json()["deal"]["protection_expires_on"] == "2026-03-03"


async def test_partner_enrolled_just_before_the_request_is_not_refused(
    dealreg, onboarding, http, deal
):
    async def enrol_then_register() -> tuple[bool, int]:
        partner = await onboarding.enrol()
        known_before = await dealreg.repository.partner(partner) is not None
        r = await http.post(f"{dealreg.url}/deals", json=deal(partner))
        return known_before, r.status_code

    results = await asyncio.gather(*(enrol_then_register() for _ in range(5)))
    assert [status for _, status in results] == [201] * 5
    assert not all(known for known, _ in results), "every partner was already projected"


async def test_deals_are_listed_by_partner_and_by_customer(dealreg, onboarding, http, deal):
    a = await onboarding.enrol_known(dealreg)
    b = await onboarding.enrol_known(dealreg)
    mine = [
        deal(
            a,
            customer={"name": "Vandelay Industries", "country": "US"},
            products=[{"sku": "A", "quantity": 1}],
        ),
        deal(a, customer={"name": "Pendant Publishing", "country": "US"}),
        deal(
            b,
            customer={"name": "VANDELAY industries, LLC", "country": "US"},
            products=[{"sku": "B", "quantity": 1}],
        ),
    ]
    for body in mine:
        assert (await http.post(f"{dealreg.url}/deals", json=body)).status_code == 201

    by_partner = (await http.get(f"{dealreg.url}/deals", params={"partner_id": a})).json()
    assert {d["deal_id"] for d in by_partner["deals"]} == {mine[0]["deal_id"], mine[1]["deal_id"]}
    by_customer = (
        await http.get(f"{dealreg.url}/deals", params={"customer": "Vandelay Industries Inc."})
    ).json()
    assert {d["deal_id"] for d in by_customer["deals"]} == {mine[0]["deal_id"], mine[2]["deal_id"]}
    both = (
        await http.get(f"{dealreg.url}/deals", params={"customer": "vandelay", "partner_id": b})
    ).json()
    assert [d["deal_id"] for d in both["deals"]] == [mine[2]["deal_id"]]
    approved_of_b = (
        await http.get(f"{dealreg.url}/deals", params={"partner_id": b, "status": "approved"})
    ).json()
    assert [d["deal_id"] for d in approved_of_b["deals"]] == [mine[2]["deal_id"]]
    for query, problem in (({"limit": "0"}, "limit"), ({"status": "maybe"}, "status")):
        bad = await http.get(f"{dealreg.url}/deals", params=query)
        assert bad.status_code == 400
        assert bad.json()["error"]["code"] == "INVALID_QUERY"
        assert bad.json()["error"]["detail"].startswith(problem)


async def test_identical_resend_answers_the_first_decision_and_publishes_nothing_new(
    dealreg, onboarding, http, deal, topics
):
    partner = await onboarding.enrol("VAR")
    approved = deal(partner, registered_on="2026-11-02")
    refused = deal(partner, registered_on="2026-11-02", evidence={})
    first = [await http.post(f"{dealreg.url}/deals", json=b) for b in (approved, refused)]
    again = [await http.post(f"{dealreg.url}/deals", json=b) for b in (approved, refused)]

    assert [r.status_code for r in first] == [201, 200]
    assert [r.status_code for r in again] == [200, 200]
    assert [r.json()["repeated"] for r in again] == [True, True]
    assert again[0].json()["deal"] == first[0].json()["deal"]
    assert again[1].json()["reason"] == first[1].json()["reason"] == "NO_EVIDENCE"
    changed = await http.post(f"{dealreg.url}/deals", json={**approved, "currency": "EUR"})
    assert changed.json()["reason"] == "DUPLICATE_DEAL_ID"

    ids = {approved["deal_id"], refused["deal_id"]}
    registered, rejected = await topics.decisions(ids, 3)
    await asyncio.sleep(1)  # let any (wrong) extra event arrive before counting
    registered, rejected = await topics.decisions(ids, 3)
    assert len(registered) == 1
    assert sorted(e["reason"] for e in rejected) == ["DUPLICATE_DEAL_ID", "NO_EVIDENCE"]
