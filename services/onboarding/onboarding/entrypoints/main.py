"""`channelstream-onboarding`: run the service until SIGTERM/SIGINT."""

from __future__ import annotations

from channelstream_common.runtime import run_service

from onboarding.bootstrap import bootstrap


def main() -> None:
    run_service("onboarding", 8001, bootstrap)


if __name__ == "__main__":
    main()
