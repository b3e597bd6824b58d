"""`channelstream-incentives`: run the service until SIGTERM/SIGINT."""

from __future__ import annotations

import sys

from channelstream_common import telemetry
from channelstream_common.runtime import serve
from channelstream_common.settings import Settings

from incentives.adapters.program_files import load_programs
from incentives.bootstrap import IncentivesService, bootstrap, programs_dir
from incentives.domain.programs import ProgramError

DEFAULT_PORT = 8004


def main() -> None:
    settings = Settings.from_env("incentives", default_port=DEFAULT_PORT)
    telemetry.setup(settings)
    try:
        programs = load_programs(programs_dir(settings))
    except ProgramError as exc:
        print(f"error: rebate programs: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    running: list[IncentivesService] = []

    async def start() -> None:
        # built inside the event loop serve() runs: Faust and aiokafka bind to it
        service = bootstrap(settings, programs=programs)
        running.append(service)
        await service.start()

    async def stop() -> None:
        while running:
            await running.pop().stop()

    serve(start, stop)


if __name__ == "__main__":
    main()
