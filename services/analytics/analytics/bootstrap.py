"""Wiring only: settings in, a startable analytics service out. Nothing is built at import."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from channelstream_common.runtime import Runtime, build_runtime
from channelstream_common.settings import Settings

from analytics.adapters.repository import Views
from analytics.adapters.tables import FACT_TABLES, INVENTORY_TABLES, SCORECARD_TABLES
from analytics.entrypoints.consumers import CONSUMED, PROJECTION, facts_handler
from analytics.entrypoints.http import register_views
from analytics.service_layer.queries import Analytics

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class AnalyticsService:
    runtime: Runtime
    analytics: Analytics

    async def start(self) -> None:
        await self.runtime.start()

    async def stop(self) -> None:
        await self.runtime.stop()


def bootstrap(settings: Settings) -> AnalyticsService:
    runtime = build_runtime(settings, migrations_dir=MIGRATIONS)
    analytics = Analytics(Views(runtime.engine))
    runtime.projection(
        PROJECTION,
        CONSUMED,
        facts_handler(settings.topic_prefix),
        tables=[t.name for t in (*FACT_TABLES, *INVENTORY_TABLES, *SCORECARD_TABLES)],
    )
    register_views(runtime.app, analytics)
    return AnalyticsService(runtime, analytics)
