"""`channelstream-analytics`: run the service until SIGTERM/SIGINT."""

from __future__ import annotations

from channelstream_common import telemetry
from channelstream_common.runtime import serve
from channelstream_common.settings import Settings

from analytics.bootstrap import AnalyticsService, bootstrap


def main() -> None:
    settings = Settings.from_env("analytics", default_port=8005)
    telemetry.setup(settings)
    running: list[AnalyticsService] = []

    async def start() -> None:
        # built inside the event loop serve() runs, so Faust binds to it
        service = bootstrap(settings)
        running.append(service)
        await service.start()

    async def stop() -> None:
        while running:
            await running.pop().stop()

    serve(start, stop)


if __name__ == "__main__":
    main()
