"""Enrolment over real HTTP, Kafka, registry and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import pytest
from channelstream_common.audit import read_topic
from channelstream_common.events import Envelope
from channelstream_common.outbox import pack_headers
from channelstream_common.replay import rebuild
from channelstream_common.serde import AvroSerde
from channelstream_common.topics import PARTNER_ENROLLED
from onboarding.bootstrap import bootstrap
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

pytestmark = pytest.mark.integration
HEADER = (
    "partner_id,legal_name,partner_type,tier,parent_distributor_id,territories,"
    "exclusive_territories,enrolled_on,contact_email"
)


def distributor(pid: str, *exclusive: str, territories: tuple[str, ...] = ("DE",)) -> dict:
    return {
        "partner_id": pid,
        "legal_name": f"{pid} Distribution GmbH",
        "partner_type": "DISTRIBUTOR",
        "tier": "GOLD",
        "territories": sorted({*territories, *exclusive}),
        "exclusive_territories": list(exclusive),
        "enrolled_on": "2026-01-05",
        "contact_email": "channel@dist.example.com",
    }


def mine(records: list, *ids: str) -> list[tuple[str, dict[str, Any], dict[str, bytes]]]:
    return [r for r in records if r[0] in ids]


async def test_enrolment_over_http_publishes_partner_enrolled_with_its_fields(
    onboarding_service, eventually, read_enrolled, tag
):
    pid = f"D-{tag}"
    async with onboarding_service() as (_, http):
        response = await http.post(
            "/partners",
            json=distributor(pid, "at", territories=("DE", "ch")),
            headers={"X-Correlation-Id": f"corr-{tag}"},
        )
        assert response.status_code == 201
        body = response.json()
        assert body["status"] == "enrolled"
        assert body["partner"]["territories"] == ["AT", "CH", "DE"]
        assert body["partner"]["exclusive_territories"] == ["AT"]

        async def published() -> list:
            return mine(await read_enrolled(), pid)

        [(key, event, headers)] = await eventually(published)
        assert key == pid
        assert {k: v for k, v in event.items() if k != "metadata"} == {
            "partner_id": pid,
            "legal_name": f"{pid} Distribution GmbH",
            "partner_type": "DISTRIBUTOR",
            "tier": "GOLD",
            "parent_distributor_id": None,
            "territories": ["AT", "CH", "DE"],
            "exclusive_territories": ["AT"],
            "enrolled_on": date(2026, 1, 5),
            "contact_email": "channel@dist.example.com",
        }
        meta = event["metadata"]
        assert meta["event_id"] == body["partner"]["event_id"]
        assert meta["producer"] == "onboarding"
        assert meta["correlation_id"] == f"corr-{tag}"
        assert meta["occurred_at"] == datetime(2026, 1, 5, tzinfo=UTC)
        assert headers["ce_type"] == b"io.channelstream.PartnerEnrolled"
        assert headers["ce_id"].decode() == meta["event_id"]

        async def shown() -> dict | None:
            r = await http.get(f"/partners/{pid}")
            return r.json() if r.status_code == 200 else None

        view = await eventually(shown)
        assert view["event_id"] == meta["event_id"]
        assert view["territories"] == ["AT", "CH", "DE"]
        assert view["enrolled_on"] == "2026-01-05"


async def test_bulk_csv_enrols_good_rows_and_gives_every_bad_row_its_reason(
    onboarding_service, eventually, read_enrolled, tag
):
    d_a, d_b, r_x = f"DA-{tag}", f"DB-{tag}", f"RX-{tag}"
    rows = [
        f"{d_b},Bravo Distribution,DISTRIBUTOR,PLATINUM,,FR;BE,FR,2026-01-02,ops@bravo.example",
        f"R1-{tag},Reseller One,RESELLER,SILVER,{d_b},FR,,2026-01-03,one@r1.example",
        f"R2-{tag},Orphan,RESELLER,SILVER,NOPE-{tag},FR,,2026-01-03,two@r2.example",
        f"R3-{tag},Wrong parent,VAR,SILVER,{r_x},FR,,2026-01-03,three@r3.example",
        f"DC-{tag},Sub distributor,DISTRIBUTOR,GOLD,{d_b},BE,,2026-01-03,c@dc.example",
        f"DD-{tag},Competitor,DISTRIBUTOR,GOLD,,AT;DE,AT,2026-01-03,d@dd.example",
        f"R4-{tag},Bad country,RESELLER,SILVER,,XX,,2026-01-03,four@r4.example",
        f"R5-{tag},Bad email,RESELLER,SILVER,,FR,,2026-01-03,not-an-email",
        f"R6-{tag},Bad tier,RESELLER,DIAMOND,,FR,,2026-01-03,six@r6.example",
        f"{d_a},{d_a} Distribution GmbH,DISTRIBUTOR,GOLD,,AT;DE,AT,2026-01-05,"
        "channel@dist.example.com",
        f"R8-{tag},Too short",
        f"R1-{tag},Reseller One Renamed,RESELLER,SILVER,{d_b},FR,,2026-01-03,one@r1.example",
        f'R7-{tag},"Seven, Inc.",VAR,REGISTERED,{d_b},BE;FR,,2026-01-04,seven@r7.example',
    ]
    csv_text = "\n".join([HEADER, *rows]) + "\n"
    async with onboarding_service() as (_, http):
        assert (await http.post("/partners", json=distributor(d_a, "AT"))).status_code == 201
        reseller_x = {**distributor(r_x), "partner_type": "RESELLER", "exclusive_territories": []}
        assert (await http.post("/partners", json=reseller_x)).status_code == 201

        response = await http.post(
            "/partners/bulk", content=csv_text.encode(), headers={"Content-Type": "text/csv"}
        )
        assert response.status_code == 200
        body = response.json()
        got = [(r["row"], r["partner_id"], r["status"], r["code"]) for r in body["results"]]
        assert got == [
            (2, d_b, "enrolled", None),
            (3, f"R1-{tag}", "enrolled", None),
            (4, f"R2-{tag}", "rejected", "UNKNOWN_PARENT"),
            (5, f"R3-{tag}", "rejected", "PARENT_NOT_DISTRIBUTOR"),
            (6, f"DC-{tag}", "rejected", "DISTRIBUTOR_HAS_PARENT"),
            (7, f"DD-{tag}", "rejected", "EXCLUSIVE_TERRITORY_TAKEN"),
            (8, f"R4-{tag}", "rejected", "INVALID_FIELD"),
            (9, f"R5-{tag}", "rejected", "INVALID_FIELD"),
            (10, f"R6-{tag}", "rejected", "INVALID_FIELD"),
            (11, d_a, "unchanged", None),
            (12, f"R8-{tag}", "rejected", "INVALID_ROW"),
            (13, f"R1-{tag}", "rejected", "PARTNER_EXISTS"),
            (14, f"R7-{tag}", "enrolled", None),
        ]
        details = {r["row"]: r["detail"] for r in body["results"]}
        assert details[7] == f"exclusive territory already held: AT (held by {d_a})"
        assert details[8].startswith("territories: 'XX'")
        assert details[9].startswith("contact_email: ")
        assert details[10].startswith("tier: ")
        assert details[13] == f"R1-{tag} is already enrolled with different legal_name"
        assert (body["enrolled"], body["unchanged"], body["rejected"]) == (3, 1, 9)

        async def children() -> list | None:
            r = await http.get("/partners", params={"parent_distributor_id": d_b})
            found = [p["partner_id"] for p in r.json()["partners"]]
            return found if len(found) == 2 else None

        assert await eventually(children) == [f"R1-{tag}", f"R7-{tag}"]
        all_ids = [f"{p}-{tag}" for p in ("R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8")]

        async def on_the_topic() -> list | None:  # keyed by partner: partitions land apart
            found = mine(await read_enrolled(), d_b, f"DC-{tag}", f"DD-{tag}", *all_ids)
            return found if len(found) >= 3 else None

        published = await eventually(on_the_topic)
        assert sorted(k for k, _, _ in published) == sorted([d_b, f"R1-{tag}", f"R7-{tag}"])
        r7 = next(v for k, v, _ in published if k == f"R7-{tag}")
        assert (r7["legal_name"], r7["parent_distributor_id"]) == ("Seven, Inc.", d_b)


async def test_identical_resubmission_is_unchanged_and_emits_nothing_but_a_different_one_is_refused(
    onboarding_service, eventually, read_enrolled, tag
):
    pid, sentinel = f"P-{tag}", f"S-{tag}"
    original = distributor(pid, "IS", territories=("NO", "IS"))
    async with onboarding_service() as (svc, http):
        first = await http.post("/partners", json=original)
        assert first.status_code == 201
        same_but_reordered = {**original, "territories": ["no", "IS"], "tier": "gold"}
        again = await http.post("/partners", json=same_but_reordered)
        assert again.status_code == 200
        assert again.json() == {**first.json(), "status": "unchanged"}
        csv_again = (
            f"{HEADER}\n{pid},{pid} Distribution GmbH,DISTRIBUTOR,GOLD,,IS;NO,IS,2026-01-05,"
            "channel@dist.example.com\n"
        )
        bulk = (await http.post("/partners/bulk", content=csv_again.encode())).json()
        assert [(r["status"], r["code"]) for r in bulk["results"]] == [("unchanged", None)]

        different = await http.post("/partners", json={**original, "legal_name": "Other AS"})
        assert different.status_code == 409
        assert different.json() == {
            "error": {
                "code": "PARTNER_EXISTS",
                "detail": f"{pid} is already enrolled with different legal_name",
            }
        }
        # the outbox publishes in order: once a later event is out, nothing else is pending
        assert (await http.post("/partners", json=distributor(sentinel))).status_code == 201

        async def sentinel_out() -> list:
            records = await read_enrolled()
            return records if mine(records, sentinel) else []

        records = await eventually(sentinel_out)
        [(_, event, _)] = mine(records, pid)
        assert event["legal_name"] == f"{pid} Distribution GmbH"
        async with svc.runtime.engine.connect() as conn:  # published rows leave the outbox
            staged = await conn.execute(
                text("select count(*) from outbox where key = :k"), {"k": pid.encode()}
            )
            assert staged.scalar_one() == 0


async def test_concurrent_distributors_claiming_one_exclusive_territory_enrol_exactly_one(
    onboarding_service, eventually, read_enrolled, tag
):
    ids = [f"C{i}-{tag}" for i in range(8)]
    bulk_ids = [f"B{i}-{tag}" for i in range(2)]

    def csv_for(pid: str) -> bytes:
        row = f"{pid},{pid} Ltd,DISTRIBUTOR,GOLD,,NZ;AU,NZ,2026-01-05,ops@{pid.lower()}.example"
        return f"{HEADER}\n{row}\n".encode()

    async with onboarding_service() as (svc, http):
        singles = [
            http.post("/partners", json=distributor(pid, "NZ", territories=("AU",))) for pid in ids
        ]
        bulks = [http.post("/partners/bulk", content=csv_for(pid)) for pid in bulk_ids]
        responses = await asyncio.gather(*singles, *bulks)

        outcomes: dict[str, tuple[str, str | None]] = {}
        for pid, r in zip(ids, responses[: len(ids)], strict=True):
            code = None if r.status_code == 201 else r.json()["error"]["code"]
            outcomes[pid] = ("enrolled" if r.status_code == 201 else str(r.status_code), code)
        for pid, r in zip(bulk_ids, responses[len(ids) :], strict=True):
            [row] = r.json()["results"]
            outcomes[pid] = (row["status"], row["code"])
        winners = [pid for pid, (status, _) in outcomes.items() if status == "enrolled"]
        assert len(winners) == 1, outcomes
        [winner] = winners
        losers = {pid: o for pid, o in outcomes.items() if pid != winner}
        assert set(losers.values()) <= {
            ("409", "EXCLUSIVE_TERRITORY_TAKEN"),
            ("rejected", "EXCLUSIVE_TERRITORY_TAKEN"),
        }
        assert len(losers) == 9

        async with svc.runtime.engine.connect() as conn:
            claims = await conn.execute(
                text("select territory, partner_id from exclusive_territory_claims")
            )
            assert [tuple(r) for r in claims] == [("NZ", winner)]
        assert (await http.post("/partners", json=distributor(f"S-{tag}"))).status_code == 201

        async def sentinel_out() -> list:
            records = await read_enrolled()
            return records if mine(records, f"S-{tag}") else []

        records = await eventually(sentinel_out)
        assert [k for k, _, _ in mine(records, *ids, *bulk_ids)] == [winner]


async def test_directory_lists_filters_and_shows_partners_from_the_projection(
    onboarding_service, eventually, tag
):
    d = f"DX-{tag}"
    rows = [
        f"{d},Xray Distribution,DISTRIBUTOR,GOLD,,PT;ES,PT,2026-01-02,ops@xray.example",
        f"RA-{tag},Reseller A,RESELLER,SILVER,{d},PT,,2026-01-03,a@ra.example",
        f"RB-{tag},Managed B,MSP,GOLD,{d},ES,,2026-01-03,b@rb.example",
        f"RC-{tag},Reseller C,RESELLER,SILVER,{d},ES;PT,,2026-01-04,c@rc.example",
    ]
    async with onboarding_service() as (_, http):
        csv_text = "\n".join([HEADER, *rows]) + "\n"
        body = (await http.post("/partners/bulk", content=csv_text.encode())).json()
        assert body["enrolled"] == 4

        async def listed(**params: str) -> list[str]:
            r = await http.get("/partners", params={"parent_distributor_id": d, **params})
            assert r.status_code == 200
            return [p["partner_id"] for p in r.json()["partners"]]

        async def all_three() -> list[str] | None:
            found = await listed()
            parent = await http.get(f"/partners/{d}")  # its own partition: checked apart
            return found if len(found) == 3 and parent.status_code == 200 else None

        assert await eventually(all_three) == [f"RA-{tag}", f"RB-{tag}", f"RC-{tag}"]
        assert await listed(partner_type="MSP") == [f"RB-{tag}"]
        assert await listed(partner_type="reseller", territory="ES") == [f"RC-{tag}"]
        page = (
            await http.get(
                "/partners", params={"parent_distributor_id": d, "limit": "2", "offset": "1"}
            )
        ).json()
        assert ([p["partner_id"] for p in page["partners"]], page["count"], page["total"]) == (
            [f"RB-{tag}", f"RC-{tag}"],
            2,
            3,
        )
        distributors = await http.get("/partners", params={"partner_type": "DISTRIBUTOR"})
        assert d in [p["partner_id"] for p in distributors.json()["partners"]]

        shown = (await http.get(f"/partners/RB-{tag}")).json()
        assert {k: v for k, v in shown.items() if k not in ("event_id", "recorded_at")} == {
            "partner_id": f"RB-{tag}",
            "legal_name": "Managed B",
            "partner_type": "MSP",
            "tier": "GOLD",
            "parent_distributor_id": d,
            "territories": ["ES"],
            "exclusive_territories": [],
            "enrolled_on": "2026-01-03",
            "contact_email": "b@rb.example",
        }
        missing = await http.get(f"/partners/NOPE-{tag}")
        assert (missing.status_code, missing.json()["error"]["code"]) == (404, "PARTNER_NOT_FOUND")
        bad = await http.get("/partners", params={"partner_type": "WHOLESALER", "limit": "0"})
        assert bad.status_code == 422
        assert bad.json()["error"]["detail"].split("; ") == [
            "partner_type: 'WHOLESALER' is not one of DISTRIBUTOR, RESELLER, VAR, MSP, SI, ISV, "
            "REFERRAL",
            "limit: must be an integer from 1 to 5000",
        ]


async def test_bad_requests_get_a_coded_reason_and_emit_nothing(onboarding_service, tag):
    pid = f"BAD-{tag}"
    async with onboarding_service() as (svc, http):
        cases = [
            (await http.post("/partners", content=b"{not json"), 400, "INVALID_JSON"),
            (await http.post("/partners", json=[distributor(pid)]), 400, "INVALID_JSON"),
            (
                await http.post("/partners", json={**distributor(pid), "legal_name": None}),
                422,
                "INVALID_FIELD",
            ),
            (
                await http.post(
                    "/partners", json={**distributor(pid), "parent_distributor_id": f"D-{tag}"}
                ),
                422,
                "DISTRIBUTOR_HAS_PARENT",
            ),
            (await http.post("/partners/bulk", content=b"id,name\nX,Y\n"), 400, "BAD_HEADER"),
            (await http.post("/partners/bulk", content=b""), 400, "BAD_HEADER"),
            (
                await http.post("/partners/bulk", content=HEADER.encode() + b"\n\xff\xfe\n"),
                400,
                "BAD_ENCODING",
            ),
        ]
        for response, status, code in cases:
            assert (response.status_code, response.json()["error"]["code"]) == (status, code)
        assert cases[2][0].json()["error"]["detail"] == "legal_name: required"
        async with svc.runtime.engine.connect() as conn:
            assert (await conn.execute(text("select count(*) from outbox"))).scalar_one() == 0
            assert (await conn.execute(text("select count(*) from partners"))).scalar_one() == 0


async def test_resent_event_changes_nothing_and_a_replay_reproduces_the_directory(
    onboarding_service, settings_for, endpoints, topic_prefix, eventually, tag
):
    d = f"RP-{tag}"
    rows = [
        f"{d},Replay Distribution,DISTRIBUTOR,SILVER,,JP;KR,JP,2026-01-02,ops@rp.example",
        f"RA-{tag},Replay A,SI,GOLD,{d},JP,,2026-01-03,a@rp.example",
        f"RB-{tag},Replay B,ISV,GOLD,{d},KR,,2026-01-03,b@rp.example",
    ]
    ids = [d, f"RA-{tag}", f"RB-{tag}"]
    mine_in_directory = text(
        "select * from partner_directory where partner_id = any(:ids) order by partner_id"
    )
    serde = AvroSerde(endpoints.registry, topic_prefix)

    async def directory(engine: AsyncEngine) -> list[tuple]:
        async with engine.connect() as conn:
            return [tuple(r) for r in await conn.execute(mine_in_directory, {"ids": ids})]

    async with onboarding_service() as (svc, http):
        engine = svc.runtime.engine
        csv_text = "\n".join([HEADER, *rows]) + "\n"
        assert (await http.post("/partners/bulk", content=csv_text.encode())).json()[
            "enrolled"
        ] == 3

        async def all_three() -> list[tuple] | None:
            found = await directory(engine)
            return found if len(found) == 3 else None

        before = await eventually(all_three)
        # the relay died after Kafka acknowledged a row, before its transaction deleted it: the
        # row is still staged, and the next relay sends it a second time
        [sent] = [
            e
            for e in await read_topic(endpoints.kafka, serde, PARTNER_ENROLLED)
            if e.key == d.encode()
        ]
        headers = pack_headers((k, v.decode()) for k, v in sent.headers)
        async with engine.begin() as conn:
            await svc.outbox.add_rows(
                conn, [(sent.topic, sent.key, sent.raw, headers, sent.event_id)]
            )
        svc.outbox.kick()

        async def sent_twice() -> list[Envelope]:
            found = await read_topic(endpoints.kafka, serde, PARTNER_ENROLLED)
            copies = [e for e in found if e.key == d.encode()]
            return copies if len(copies) == 2 else []

        first, second = await eventually(sent_twice)
        assert first.value == second.value
        assert second.offset > first.offset

        async def duplicate_applied() -> bool:
            async with engine.connect() as conn:
                position = await conn.execute(
                    text(
                        'select "offset" from projection_positions'
                        " where topic = :t and partition = :n"
                    ),
                    {"t": second.topic, "n": second.partition},
                )
                return (position.scalar_one_or_none() or -1) >= second.offset

        await eventually(duplicate_applied)
        assert await directory(engine) == before

    replay = bootstrap(settings_for("onboarding"))
    result = await rebuild(replay.runtime)
    assert result.dead_lettered == 0
    assert await directory(replay.runtime.engine) == before
    await replay.runtime.publisher.stop()
    await replay.runtime.engine.dispose()
