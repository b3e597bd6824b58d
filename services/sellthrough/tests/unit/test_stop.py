"""Stopping the service ends the outbox relay even if it swallowed its first cancellation."""

from __future__ import annotations

import asyncio
from typing import Any

from sellthrough.bootstrap import stop_relay


class StubbornRelay:
    """Stops like Outbox (cancel, then wait) but runs on after the first cancellation, as the
    relay does when the cancellation meets its wait_for timing out (Python 3.11)."""

    def __init__(self) -> None:
        self.cancellations = 0
        self._task: asyncio.Task[None] | None = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                self.cancellations += 1
                if self.cancellations > 1:
                    raise

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None


async def test_a_relay_that_ignored_its_cancellation_is_cancelled_again():
    relay = StubbornRelay()
    await asyncio.sleep(0)
    stubborn: Any = relay
    await asyncio.wait_for(stop_relay(stubborn, patience=0.05), timeout=5)
    assert relay.cancellations == 2 and relay._task is None
