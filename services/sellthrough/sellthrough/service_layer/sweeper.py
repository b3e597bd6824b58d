"""The periodic task that ends holds whose grace period has run out."""

from __future__ import annotations

import asyncio
import logging

from sellthrough.service_layer.pipeline import Pipeline

log = logging.getLogger(__name__)


class HoldSweeper:
    def __init__(self, pipeline: Pipeline, interval: float, limit: int = 2000) -> None:
        self.pipeline = pipeline
        self.interval = interval
        self.limit = limit

    async def run_once(self) -> int:
        total = 0
        while True:
            n = await self.pipeline.sweep(self.limit)
            total += n
            if n < self.limit:
                return total

    async def run(self) -> None:
        """Sweep every `interval` s until cancelled; the runtime runs it (Runtime.background)."""
        while True:
            await asyncio.sleep(self.interval)
            try:
                if n := await self.run_once():
                    log.info("decided %d held lines past their grace period", n)
            except Exception:
                log.exception("hold sweep failed; retrying")
