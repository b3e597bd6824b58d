"""HTTP access to the services from the CLI: base URLs from the environment, one error style."""

from __future__ import annotations

import os
from typing import Any

import httpx

from channelstream_cli.output import fail

DEFAULT_PORTS = {
    "onboarding": 8001,
    "dealreg": 8002,
    "sellthrough": 8003,
    "incentives": 8004,
    "analytics": 8005,
}


def base_url(service: str) -> str:
    return os.environ.get(
        f"CHANNELSTREAM_{service.upper()}_URL", f"http://127.0.0.1:{DEFAULT_PORTS[service]}"
    ).rstrip("/")


def request(service: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One call to a service; a connection problem becomes a one-line error naming the service."""
    url = f"{base_url(service)}{path}"
    try:
        response = httpx.request(method, url, timeout=kwargs.pop("timeout", 60), **kwargs)
    except httpx.HTTPError as exc:
        fail(
            f"{service} is not reachable at {base_url(service)} ({type(exc).__name__}); "
            "is it running? (`channelstream services up`)"
        )
    return response
