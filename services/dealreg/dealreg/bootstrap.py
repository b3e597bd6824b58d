"""Wiring only: settings in, a startable dealreg service out. Nothing is built at import time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from channelstream_common.outbox import Outbox
from channelstream_common.runtime import Runtime, build_runtime
from channelstream_common.settings import Settings
from channelstream_common.topics import PARTNER_ENROLLED

from dealreg.adapters.repository import DealRepository
from dealreg.entrypoints import consumers, http
from dealreg.service_layer.registration import Config, Registrar

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


@dataclass
class DealregService:
    runtime: Runtime
    outbox: Outbox
    repository: DealRepository
    registrar: Registrar

    @property
    def url(self) -> str:
        s = self.runtime.settings
        return f"http://{s.http_host}:{s.http_port}"

    async def start(self) -> None:
        await self.runtime.start()

    async def stop(self) -> None:
        await self.runtime.stop()


def bootstrap(settings: Settings) -> DealregService:
    config = Config.from_settings(settings)
    runtime = build_runtime(settings, migrations_dir=MIGRATIONS)
    outbox = runtime.transactional_outbox()
    repository = DealRepository(runtime.engine, outbox)
    registrar = Registrar(repository, config)
    runtime.projection(
        "partners", [PARTNER_ENROLLED], consumers.apply_partner_enrolled, tables=("partners",)
    )
    http.register_routes(runtime.app, registrar, repository)
    return DealregService(runtime, outbox, repository, registrar)
