"""The periodic task that ends holds whose grace period has run out."""

from __future__ import annotations

import asyncio
import logging

from channelstream_common.tasks import cancel_and_wait

from sellthrough.service_layer.pipeline import Pipeline

log = logging.getLogger(__name__)


class HoldSweeper:
    def __init__(self, pipeline: Pipeline, interval: float, limit: int = 2000) -> None:
        self.pipeline = pipeline
        self.interval = interval
        self.limit = limit
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        total = 0
        while True:
            n = await self.pipeline.sweep(self.limit)
            total += n
            if n < self.limit:
                return total

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                if n := await self.run_once():
                    log.info("decided %d held lines past their grace period", n)
            except Exception:
                log.exception("hold sweep failed; retrying")

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="sellthrough-hold-sweeper")

    async def stop(self) -> None:
        if self._task:
            await cancel_and_wait(self._task)
            self._task = None
