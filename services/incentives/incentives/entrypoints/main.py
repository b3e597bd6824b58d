"""`channelstream-incentives`: run the service until SIGTERM/SIGINT."""

from __future__ import annotations

from channelstream_common.runtime import run_service

from incentives.bootstrap import bootstrap

DEFAULT_PORT = 8004


def main() -> None:
    run_service("incentives", DEFAULT_PORT, bootstrap)


if __name__ == "__main__":
    main()
