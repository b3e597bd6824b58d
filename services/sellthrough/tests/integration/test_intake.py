"""Intake under load: bounded, and a saturated intake is a coded, retryable answer (503
OVERLOADED with Retry-After) that recorded nothing, never a 500. Uploads of one batch and of
many record their upload with its final state."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from channelstream_common import testing

pytestmark = pytest.mark.integration

REPORT_HEADER = (
    "report_id,line_no,distributor_id,reseller_id,sku,quantity,unit_price,currency,sold_on,"
    "end_customer_name,end_customer_country,deal_id"
)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


def numbered(rpt: str, d: str, r: str, lines: int) -> str:
    rows = [f"{rpt},{n},{d},{r},AP-210,1,429.5,USD,2025-07-01,,," for n in range(1, lines + 1)]
    return "\n".join([REPORT_HEADER, *rows]) + "\n"


async def post(http: httpx.AsyncClient, body: str) -> httpx.Response:
    return await http.post("/reports", content=body.encode(), headers={"Content-Type": "text/csv"})


def assert_overloaded(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "OVERLOADED"
    assert int(response.headers["Retry-After"]) >= 1


async def partners(onboarding, sellthrough) -> tuple[str, str]:
    d, r = await onboarding.enrol(new_id("D"), "DISTRIBUTOR"), await onboarding.enrol(new_id("R"))
    await testing.eventually(lambda: sellthrough.knows(d, r))
    return d, r


async def test_a_saturated_intake_answers_503_overloaded_and_records_nothing(launch, onboarding):
    sellthrough = await launch(
        intake_concurrency="1", intake_queue="1", intake_wait_seconds="0.5", db_pool_size=2
    )
    assert sellthrough.svc.runtime.engine.pool.size() == 2  # type: ignore[attr-defined]
    d, r = await partners(onboarding, sellthrough)
    intake = sellthrough.svc.uploads.intake
    waits, refused = new_id("RPT"), new_id("RPT")

    async with intake.turn(intake.admit()):  # the only turn is taken
        waiting = asyncio.create_task(post(sellthrough.http, numbered(waits, d, r, 3)))
        await testing.eventually(lambda: asyncio.sleep(0, intake.waiting == 1))
        assert_overloaded(await post(sellthrough.http, numbered(refused, d, r, 3)))  # queue full
        assert_overloaded(await waiting)  # no turn within 0.5 s

    for rpt in (waits, refused):
        assert (await sellthrough.http.get(f"/reports/{rpt}")).status_code == 404
    again = await sellthrough.upload("/reports", numbered(refused, d, r, 3))
    assert (again["lines"], again["accepted"]) == (3, 3)


async def test_a_burst_of_uploads_gets_coded_answers_and_retries_get_everything_in(
    launch, onboarding
):
    sellthrough = await launch(
        intake_concurrency="1", intake_queue="2", intake_wait_seconds="2", db_pool_size=1
    )
    d, r = await partners(onboarding, sellthrough)
    bodies = {rpt: numbered(rpt, d, r, 200) for rpt in (new_id("RPT") for _ in range(30))}

    answers = await asyncio.gather(*(post(sellthrough.http, b) for b in bodies.values()))

    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {200, 503}, [a.text for a in answers if a.status_code not in (200, 503)]
    assert 200 in statuses and 503 in statuses
    for rpt, answer in zip(bodies, answers, strict=True):
        if answer.status_code == 503:
            assert_overloaded(answer)
            assert (await sellthrough.http.get(f"/reports/{rpt}")).status_code == 404
        else:
            status = await sellthrough.get(f"/uploads/{answer.json()['upload_id']}")
            assert (status["state"], status["lines"], status["accepted"]) == ("complete", 200, 200)

    async def until_taken(body: str) -> httpx.Response:
        while (answer := await post(sellthrough.http, body)).status_code == 503:
            assert_overloaded(answer)
            await asyncio.sleep(int(answer.headers["Retry-After"]))
        return answer

    retried = [rpt for rpt, a in zip(bodies, answers, strict=True) if a.status_code == 503]
    again = await asyncio.gather(*(until_taken(bodies[rpt]) for rpt in retried))
    assert [a.json()["accepted"] for a in again] == [200] * len(retried)
    for rpt in bodies:
        assert len((await sellthrough.get(f"/reports/{rpt}"))["lines"]) == 200


async def test_an_upload_of_many_batches_is_complete_with_every_line_counted(
    sellthrough, onboarding
):
    d, r = await partners(onboarding, sellthrough)
    sellthrough.svc.uploads.batch = 2  # 5 lines and 2 blank ones: four batches
    rpt = new_id("RPT")
    body = (
        numbered(rpt, d, r, 5)
        .replace(f"{rpt},3,", f"{rpt},2,")  # line 2 again, in the next batch: a duplicate
        .replace(f"{rpt},5,{d},{r},AP-210,1,", f"{rpt},1,{d},{r},AP-210,9,")  # a conflict
    ) + "\n\n"
    result = await sellthrough.upload("/reports", body)
    upload_id = result.pop("upload_id")
    expected = {"lines": 5, "accepted": 3, "duplicates": 1, "held": 0}
    assert result == {**expected, "rejected": {"CONFLICTING_RESUBMISSION": 1}}
    status = await sellthrough.get(f"/uploads/{upload_id}")
    assert status["state"] == "complete"
    assert {k: status[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("text/csv", REPORT_HEADER + "\n"), ("text/csv", REPORT_HEADER + "\n\n \n"),
     ("application/x-ndjson", "")],
)  # fmt: skip
async def test_a_file_without_lines_is_a_complete_upload_of_none(sellthrough, content_type, body):
    result = await sellthrough.upload("/reports", body, content_type)
    status = await sellthrough.get(f"/uploads/{result['upload_id']}")
    assert (status["state"], status["lines"], status["accepted"]) == ("complete", 0, 0)
