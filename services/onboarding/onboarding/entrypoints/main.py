"""`channelstream-onboarding`: run the service until SIGTERM/SIGINT."""

from __future__ import annotations

from channelstream_common import telemetry
from channelstream_common.runtime import serve
from channelstream_common.settings import Settings

from onboarding.bootstrap import OnboardingService, bootstrap


def main() -> None:
    settings = Settings.from_env("onboarding", default_port=8001)
    telemetry.setup(settings)
    running: list[OnboardingService] = []

    async def start() -> None:
        # built inside the event loop serve() runs, so Faust and the outbox bind to it
        service = bootstrap(settings)
        running.append(service)
        await service.start()

    async def stop() -> None:
        while running:
            await running.pop().stop()

    serve(start, stop)


if __name__ == "__main__":
    main()
