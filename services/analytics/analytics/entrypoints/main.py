"""`channelstream-analytics`: run the service until SIGTERM/SIGINT."""

from __future__ import annotations

from channelstream_common.runtime import run_service

from analytics.bootstrap import bootstrap


def main() -> None:
    run_service("analytics", 8005, bootstrap)


if __name__ == "__main__":
    main()
