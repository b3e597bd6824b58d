"""Wiring only: settings in, a startable IncentivesService out. Nothing is built at import."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from channelstream_common.outbox import Outbox
from channelstream_common.projection import Handler, ProjectionStore
from channelstream_common.runtime import Runtime, build_runtime
from channelstream_common.settings import ConfigError, Settings

from incentives.adapters.program_files import BUNDLED, load_programs
from incentives.adapters.queries import ReadModel
from incentives.domain.programs import Program, ProgramError
from incentives.entrypoints.consumers import TOPICS, accrual_handler
from incentives.entrypoints.http import register_routes

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
PROJECTION = "accruals"
# written by the accrual projection alone (replays compare them; the outbox is run-time state)
TABLES = (
    "partners", "deals", "sell_through_lines", "volume_positions", "accruals", "accrual_totals",
    "pending_rules", "skipped_rules",
)  # fmt: skip
log = logging.getLogger(__name__)


@dataclass
class IncentivesService:
    runtime: Runtime
    programs: tuple[Program, ...]
    outbox: Outbox
    handler: Handler
    store: ProjectionStore
    reads: ReadModel

    async def start(self) -> None:
        await self.runtime.start()

    async def stop(self) -> None:
        await self.runtime.stop()


def programs_dir(settings: Settings) -> Path:
    """CHANNELSTREAM_INCENTIVES_PROGRAMS_DIR, default the programs bundled with the service."""
    return Path(settings.get("programs_dir", str(BUNDLED)))


def bootstrap(
    settings: Settings, *, programs: tuple[Program, ...] | None = None
) -> IncentivesService:
    """Call inside a running event loop. Programs are read first (unless given), so a bad
    program file stops start-up before anything runs."""
    if programs is None:
        try:
            programs = load_programs(programs_dir(settings))
        except ProgramError as exc:
            raise ConfigError(f"rebate programs: {exc}") from None
    relay_interval = settings.seconds("outbox_interval", 0.2)
    runtime = build_runtime(settings, migrations_dir=MIGRATIONS)
    outbox = runtime.transactional_outbox(relay_interval)
    handler = accrual_handler(programs, outbox, settings.topic_prefix)
    store = runtime.projection(PROJECTION, TOPICS, handler, tables=TABLES)
    reads = ReadModel(runtime.engine)
    register_routes(runtime.app, reads, programs)
    log.info(
        "incentives programs: %s",
        ", ".join(f"{p.program_id} v{p.version}" for p in programs),
    )
    return IncentivesService(
        runtime=runtime,
        programs=programs,
        outbox=outbox,
        handler=handler,
        store=store,
        reads=reads,
    )
