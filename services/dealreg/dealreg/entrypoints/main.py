"""`channelstream-dealreg`: run the deal registration service until SIGTERM/SIGINT."""

from __future__ import annotations

from channelstream_common import telemetry
from channelstream_common.runtime import serve
from channelstream_common.settings import Settings

from dealreg.bootstrap import DealregService, bootstrap

DEFAULT_PORT = 8002


def main() -> None:
    settings = Settings.from_env("dealreg", default_port=DEFAULT_PORT)
    telemetry.setup(settings)
    running: list[DealregService] = []

    async def start() -> None:
        # built inside the event loop serve() runs: the Kafka producer and Faust bind to it
        service = bootstrap(settings)
        running.append(service)
        await service.start()

    async def stop() -> None:
        while running:
            await running.pop().stop()

    serve(start, stop)


if __name__ == "__main__":
    main()
