"""Stopping background tasks for good."""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any], *, every: float = 1.0) -> None:
    """Cancel `task` until it has ended. A cancel can be swallowed on the way (on Python 3.11
    `asyncio.wait_for` drops one that arrives as the awaited result does), and a loop that lost
    its cancel runs on: a single cancel followed by an await hung service shutdowns."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=every)
    if not task.cancelled():
        task.exception()  # retrieved, so an error at shutdown is not reported as unhandled
