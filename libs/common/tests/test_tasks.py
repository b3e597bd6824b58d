"""cancel_and_wait ends a task even when a cancel is swallowed on the way (3.11 wait_for)."""

from __future__ import annotations

import asyncio

from channelstream_common.tasks import cancel_and_wait, stop_in_turn


async def test_a_task_that_swallows_the_first_cancel_is_still_ended() -> None:
    swallowed = 0

    async def loop() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed += 1  # what wait_for does when the result arrives with the cancel

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait(task, every=0.05), 5)
    assert task.cancelled() and swallowed == 1


async def test_a_stalled_shutdown_step_is_named_and_the_next_ones_still_run(caplog) -> None:
    ran: list[str] = []

    async def stalls() -> None:
        await asyncio.Event().wait()

    async def fails() -> None:
        raise RuntimeError("broker gone")

    async def closes() -> None:
        ran.append("database pool")

    steps = [("projection stream", stalls), ("publisher", fails), ("database pool", closes)]
    failed = await asyncio.wait_for(stop_in_turn(steps, within=0.05), 5)

    assert failed == ["projection stream", "publisher"]
    assert ran == ["database pool"]
    assert "shutdown: projection stream did not finish within 0.05 s" in caplog.text
    assert "shutdown: publisher failed" in caplog.text
