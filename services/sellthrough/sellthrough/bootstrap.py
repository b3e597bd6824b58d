"""Wiring only: settings in, a startable sellthrough service out. Nothing is built at import."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from channelstream_common.outbox import Outbox
from channelstream_common.runtime import Runtime, build_runtime
from channelstream_common.settings import ConfigError, Settings
from channelstream_common.topics import (
    DEAD_LETTERS,
    PARTNER_ENROLLED,
    SELL_IN_RECORDED,
    SELL_IN_SUBMITTED,
    SELL_THROUGH_REPORTED,
    SELL_THROUGH_SUBMITTED,
)

from sellthrough.adapters.catalog import BUNDLED, load_catalog
from sellthrough.adapters.tables import INVENTORY_TABLES
from sellthrough.domain.model import Rules
from sellthrough.entrypoints import consumers
from sellthrough.entrypoints.http import register_views
from sellthrough.service_layer.flavors import SALES, SHIPMENTS
from sellthrough.service_layer.partners import PartnerBook
from sellthrough.service_layer.pipeline import Pipeline
from sellthrough.service_layer.queries import Queries
from sellthrough.service_layer.sweeper import HoldSweeper
from sellthrough.service_layer.uploads import Intake, IntakeLimits, Uploads

MIGRATIONS = Path(__file__).parent / "migrations"
# Kafka-driven decisions commit inside projection transactions, after which nothing can kick
# the relay; it polls this often when idle (uploads kick it after each batch).
RELAY_INTERVAL = 0.25


@dataclass
class SellthroughService:
    runtime: Runtime
    outbox: Outbox
    pipeline: Pipeline
    uploads: Uploads
    queries: Queries

    async def start(self) -> None:
        await self.pipeline.partners.load(self.runtime.engine)
        await self.runtime.start()

    async def stop(self) -> None:
        await self.runtime.stop()


def rules_from(settings: Settings) -> Rules:
    catalog = load_catalog(Path(settings.get("catalog", str(BUNDLED))))
    currencies = frozenset(
        c.strip().upper() for c in settings.get("currencies", "USD").split(",") if c.strip()
    )
    if not currencies:
        raise ConfigError("CHANNELSTREAM_SELLTHROUGH_CURRENCIES names no currency")
    return Rules(catalog, currencies)


def intake_limits(settings: Settings) -> IntakeLimits:
    d = IntakeLimits()
    return IntakeLimits(
        concurrency=settings.integer("intake_concurrency", d.concurrency),
        queue=settings.integer("intake_queue", d.queue),
        wait=settings.seconds("intake_wait_seconds", d.wait),
        retry_after=settings.integer("intake_retry_after_seconds", d.retry_after),
    )


def bootstrap(settings: Settings) -> SellthroughService:
    """Reads every setting before it connects to anything: a bad one stops start-up clean."""
    rules, limits = rules_from(settings), intake_limits(settings)
    grace = settings.seconds("hold_grace_seconds", 300)
    sweep_every = settings.seconds("hold_sweep_seconds", min(5.0, max(0.2, grace / 4)))
    runtime = build_runtime(settings, migrations_dir=MIGRATIONS)
    outbox = runtime.transactional_outbox(RELAY_INTERVAL)
    pipeline = Pipeline(
        runtime.engine,
        outbox,
        rules,
        PartnerBook(),
        dead_letter_topic=DEAD_LETTERS["sellthrough"].full_name(settings.topic_prefix),
        grace=timedelta(seconds=grace),
    )
    runtime.projection(
        consumers.PARTNERS,
        [PARTNER_ENROLLED],
        consumers.partners_handler(pipeline),
        tables=("partners",),
    )
    runtime.projection(
        consumers.INVENTORY,
        [SELL_THROUGH_REPORTED, SELL_IN_RECORDED],
        consumers.inventory_handler(settings.topic_prefix),
        tables=INVENTORY_TABLES,
    )
    # intake is the command side: a replay re-decides it into the replay database, unpublished
    # and not compared (no tables declared)
    runtime.projection(
        consumers.INTAKE_SALES, [SELL_THROUGH_SUBMITTED], consumers.intake_handler(pipeline, SALES)
    )
    runtime.projection(
        consumers.INTAKE_SHIPMENTS,
        [SELL_IN_SUBMITTED],
        consumers.intake_handler(pipeline, SHIPMENTS),
    )
    uploads = Uploads(runtime.engine, pipeline, outbox, intake=Intake(limits))
    queries = Queries(runtime.engine, pipeline.partners)
    register_views(runtime.app, uploads, queries)
    runtime.background("hold sweeper", HoldSweeper(pipeline, sweep_every).run)
    return SellthroughService(runtime, outbox, pipeline, uploads, queries)
