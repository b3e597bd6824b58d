"""Bounded intake: refused early and coded when saturated, never cut in the middle of an upload."""

from __future__ import annotations

import asyncio

import pytest
from sellthrough.service_layer.uploads import Intake, IntakeLimits, Overloaded


async def test_an_upload_beyond_the_queue_is_refused_at_once():
    intake = Intake(IntakeLimits(concurrency=1, queue=2, wait=5, retry_after=3))
    first, second = intake.admit(), intake.admit()
    with pytest.raises(Overloaded) as refused:
        intake.admit()
    assert refused.value.retry_after == 3
    assert "2 uploads are waiting" in refused.value.detail
    first.done()
    second.done()
    intake.admit().done()  # room again
    assert intake.waiting == 0


async def test_a_first_turn_not_given_within_the_wait_is_refused_and_frees_its_place():
    intake = Intake(IntakeLimits(concurrency=1, queue=5, wait=0.05))
    busy = intake.admit()
    async with intake.turn(busy):
        late = intake.admit()
        with pytest.raises(Overloaded, match=r"no turn to decide lines within 0\.05 s"):
            async with intake.turn(late):
                pass  # pragma: no cover
        assert intake.waiting == 0
    late.done()  # idempotent
    assert intake.waiting == 0


async def test_the_later_turns_of_an_upload_under_way_wait_as_long_as_it_takes():
    intake = Intake(IntakeLimits(concurrency=1, queue=1, wait=0.01))
    ticket = intake.admit()
    async with intake.turn(ticket):
        pass
    other = intake.admit()
    order: list[str] = []

    async def later_batch() -> None:
        async with intake.turn(ticket):  # not the first turn: no time limit
            order.append("later batch")

    async with intake.turn(other):
        task = asyncio.create_task(later_batch())
        await asyncio.sleep(0.05)
        order.append("other released")
    await task
    assert order == ["other released", "later batch"]


async def test_at_most_concurrency_turns_at_once():
    intake = Intake(IntakeLimits(concurrency=2, queue=10, wait=5))
    running, peak = 0, 0

    async def upload() -> None:
        nonlocal running, peak
        ticket = intake.admit()
        try:
            for _ in range(3):
                async with intake.turn(ticket):
                    running += 1
                    peak = max(peak, running)
                    await asyncio.sleep(0.001)
                    running -= 1
        finally:
            ticket.done()

    await asyncio.gather(*(upload() for _ in range(8)))
    assert peak == 2 and intake.waiting == 0
