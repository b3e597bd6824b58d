"""Deployment checks without a cluster or a container engine: the overlays are rendered with the
kustomize version pinned in deploy/local/bootstrap.sh (which builds it from the Go module proxy
into .stack/cache); `KUSTOMIZE=/path/to/kustomize` overrides the binary."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
OVERLAYS = ("dev", "prod")

Doc = dict[str, Any]


def kustomize_version() -> str:
    text = (REPO / "deploy" / "local" / "bootstrap.sh").read_text()
    found = re.search(r"^KUSTOMIZE_VERSION=(v[0-9.]+)", text, re.MULTILINE)
    assert found, "deploy/local/bootstrap.sh must pin KUSTOMIZE_VERSION"
    return found.group(1)


def kustomize_binary() -> Path:
    if override := os.environ.get("KUSTOMIZE"):
        return Path(override)
    stack = Path(os.environ.get("CHANNELSTREAM_STACK_DIR", REPO / ".stack"))
    return stack / "cache" / f"kustomize-{kustomize_version()}" / "bin" / "kustomize"


@pytest.fixture(scope="session")
def kustomize() -> Path:
    binary = kustomize_binary()
    if not binary.exists():
        pytest.fail(f"{binary} is missing: run deploy/local/bootstrap.sh (it builds kustomize)")
    if "KUSTOMIZE" not in os.environ:
        version = subprocess.run(
            [binary, "version"], check=True, capture_output=True, text=True
        ).stdout.strip()
        assert version == kustomize_version(), f"{binary} is {version}"
    return binary


@pytest.fixture(scope="session")
def rendered(kustomize: Path) -> dict[str, list[Doc]]:
    """`kustomize build` of every overlay: {overlay: [resource, ...]}."""
    out = {}
    for overlay in OVERLAYS:
        result = subprocess.run(
            [kustomize, "build", REPO / "deploy" / "k8s" / "overlays" / overlay],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, f"kustomize build {overlay}: {result.stderr}"
        out[overlay] = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    return out
