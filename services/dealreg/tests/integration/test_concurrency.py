"""Race freedom: conflicting requests at two replicas sharing one database."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import pytest
from sqlalchemy import text

pytestmark = pytest.mark.integration

ROUNDS = 5
CONTENDERS = 6


def spellings(round_no: int) -> list[dict]:
    """Six spellings of one customer; with a domain or without, so every pair is the same
    customer (equal domains, or equal name-and-country keys)."""
    stem = f"Stark{round_no}{uuid.uuid4().hex[:4]}"
    domain = f"{stem.lower()}.example"
    names = [
        f"{stem} Industries",
        f"{stem.upper()} INDUSTRIES, INC.",
        f"{stem}  Industries LLC",
        f"The {stem} Industries Company",
        f"{stem}-Industries Ltd.",
        f"{stem} industries",
    ]
    return [
        {"name": name, "country": "US", "domain": domain if i % 2 else None}
        for i, name in enumerate(names)
    ]


async def test_conflicting_requests_at_two_replicas_yield_exactly_one_approval(
    launch, onboarding, http, deal, topics
):
    first = await launch()
    second = await launch(like=first)
    partners = [await onboarding.enrol_known(first) for _ in range(CONTENDERS)]
    replicas = [first, second]
    all_ids: set[str] = set()
    winners: set[str] = set()

    for round_no in range(ROUNDS):
        bodies = [
            deal(
                p,
                customer=c,
                products=[{"sku": "SKU-1", "quantity": 1}, {"sku": f"X{i}", "quantity": 1}],
            )
            for i, (p, c) in enumerate(zip(partners, spellings(round_no), strict=True))
        ]
        answers = await asyncio.gather(
            *(http.post(f"{replicas[i % 2].url}/deals", json=body) for i, body in enumerate(bodies))
        )
        codes = Counter(r.status_code for r in answers)
        assert codes == {201: 1, 409: CONTENDERS - 1}, [r.json() for r in answers]
        [winner] = [r.json()["deal_id"] for r in answers if r.status_code == 201]
        for r in answers:
            if r.status_code == 409:
                assert r.json()["reason"] == "CONFLICT"
                assert r.json()["conflicting_deal_id"] == winner
        winners.add(winner)
        all_ids |= {b["deal_id"] for b in bodies}

    async with first.runtime.engine.connect() as conn:
        approved = await conn.execute(
            text("select deal_id from deals where status = 'APPROVED' and deal_id = any(:ids)"),
            {"ids": sorted(all_ids)},
        )
        assert {r.deal_id for r in approved} == winners

    registered, refused = await topics.decisions(all_ids, ROUNDS * CONTENDERS)
    assert sorted(e["deal_id"] for e in registered) == sorted(winners)
    assert len(refused) == ROUNDS * (CONTENDERS - 1)
    assert {e["reason"] for e in refused} == {"CONFLICT"}
    assert {e["conflicting_deal_id"] for e in refused} == winners


async def test_one_deal_id_sent_to_both_replicas_at_once_is_decided_once(
    launch, onboarding, http, deal, topics
):
    first = await launch()
    second = await launch(like=first)
    a = await onboarding.enrol_known(first)
    b = await onboarding.enrol_known(first)
    deal_id = f"D-{uuid.uuid4().hex[:8]}"
    answers = await asyncio.gather(
        http.post(f"{first.url}/deals", json=deal(a, deal_id=deal_id)),
        http.post(f"{second.url}/deals", json=deal(b, deal_id=deal_id)),
    )
    assert sorted(r.status_code for r in answers) == [201, 409]
    assert {r.json()["status"] for r in answers} == {"APPROVED", "REJECTED"}
    [duplicate] = [r.json() for r in answers if r.status_code == 409]
    assert duplicate["reason"] == "DUPLICATE_DEAL_ID"
    registered, refused = await topics.decisions({deal_id}, 2)
    assert len(registered) == 1
    assert [e["reason"] for e in refused] == ["DUPLICATE_DEAL_ID"]
