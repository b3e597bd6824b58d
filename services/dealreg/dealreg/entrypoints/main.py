"""`channelstream-dealreg`: run the service until SIGTERM/SIGINT."""

from __future__ import annotations

from channelstream_common.runtime import run_service

from dealreg.bootstrap import bootstrap


def main() -> None:
    run_service("dealreg", 8002, bootstrap)


if __name__ == "__main__":
    main()
