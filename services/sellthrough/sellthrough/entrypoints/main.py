"""`channelstream-sellthrough`: run the service until SIGTERM/SIGINT."""

from __future__ import annotations

from channelstream_common.runtime import run_service

from sellthrough.bootstrap import bootstrap


def main() -> None:
    run_service("sellthrough", 8003, bootstrap)


if __name__ == "__main__":
    main()
