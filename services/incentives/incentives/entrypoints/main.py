"""`channelstream-incentives`: run the service until SIGTERM/SIGINT."""

from __future__ import annotations

import sys

from channelstream_common.runtime import run_service
from channelstream_common.settings import Settings

from incentives.adapters.program_files import load_programs
from incentives.bootstrap import bootstrap, programs_dir
from incentives.domain.programs import ProgramError

DEFAULT_PORT = 8004


def main() -> None:
    # a bad program file stops start-up before anything connects
    try:
        programs = load_programs(programs_dir(Settings.from_env("incentives")))
    except ProgramError as exc:
        print(f"error: rebate programs: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    run_service("incentives", DEFAULT_PORT, lambda s: bootstrap(s, programs=programs))


if __name__ == "__main__":
    main()
