"""Stopping background tasks for good."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

log = logging.getLogger(__name__)


async def cancel_and_wait(task: asyncio.Task[Any], *, every: float = 1.0) -> None:
    """Cancel `task` until it has ended. A cancel can be swallowed on the way (on Python 3.11
    `asyncio.wait_for` drops one that arrives as the awaited result does), and a loop that lost
    its cancel runs on: a single cancel followed by an await hung service shutdowns."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=every)
    if not task.cancelled():
        task.exception()  # retrieved, so an error at shutdown is not reported as unhandled


Step = tuple[str, Callable[[], Awaitable[Any]]]


async def stop_in_turn(steps: Sequence[Step], *, within: float) -> list[str]:
    """Run shutdown steps in order, each given at most `within` seconds. A step that stalls or
    fails is logged by name and the next still runs: one stuck client must not keep a service
    from closing the others (and its database connections) until it is killed. Returns the
    names of the steps that did not end cleanly."""
    failed = []
    for name, step in steps:
        try:
            async with asyncio.timeout(within):
                await step()
        except TimeoutError:
            log.error("shutdown: %s did not finish within %g s; going on", name, within)
            failed.append(name)
        except Exception:
            log.exception("shutdown: %s failed; going on", name)
            failed.append(name)
    return failed
