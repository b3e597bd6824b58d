"""Wiring only: settings in, a startable onboarding service out. Nothing is built at import."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from channelstream_common.outbox import Outbox
from channelstream_common.runtime import Runtime, build_runtime
from channelstream_common.settings import Settings
from channelstream_common.topics import PARTNER_ENROLLED

from onboarding.entrypoints.consumers import PROJECTION, apply_partner_enrolled
from onboarding.entrypoints.http import register_views
from onboarding.service_layer.directory import Directory
from onboarding.service_layer.enrolments import Enrolments

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class OnboardingService:
    runtime: Runtime
    outbox: Outbox
    enrolments: Enrolments
    directory: Directory

    async def start(self) -> None:
        await self.runtime.start()

    async def stop(self) -> None:
        await self.runtime.stop()


def bootstrap(settings: Settings) -> OnboardingService:
    runtime = build_runtime(settings, migrations_dir=MIGRATIONS)
    outbox = runtime.transactional_outbox()
    enrolments = Enrolments(runtime.engine, outbox)
    directory = Directory(runtime.engine)
    runtime.projection(
        PROJECTION, [PARTNER_ENROLLED], apply_partner_enrolled, tables=("partner_directory",)
    )
    register_views(runtime.app, enrolments, directory)
    return OnboardingService(runtime, outbox, enrolments, directory)
