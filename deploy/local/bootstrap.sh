#!/usr/bin/env bash
# Provision a fresh Debian machine for Channelstream: uv + Python deps (from uv.lock), and the
# prerequisites of the local stack (Java 17+, Maven, PostgreSQL server), and kustomize for the
# deployment tests (built from the Go module proxy, cached under .stack/cache). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
UV_VERSION=0.9.30
KUSTOMIZE_VERSION=v5.8.1  # tests/deploy render deploy/k8s with exactly this version

need_apt=()
command -v java >/dev/null || need_apt+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need_apt+=(maven)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v go >/dev/null || need_apt+=(golang-go)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing prerequisites: ${need_apt[*]} (install them with apt-get as root)" >&2
    exit 2
  fi
  echo "installing ${need_apt[*]} from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! command -v uv >/dev/null || [ "$(uv --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  python3 -m pip install -q --disable-pip-version-check "uv==$UV_VERSION" 2>/dev/null \
    || python3 -m pip install -q --break-system-packages "uv==$UV_VERSION"
fi
uv sync --frozen --all-packages -q

stack_dir="${CHANNELSTREAM_STACK_DIR:-$PWD/.stack}"
kustomize_bin="$stack_dir/cache/kustomize-$KUSTOMIZE_VERSION/bin/kustomize"
if [ ! -x "$kustomize_bin" ]; then
  echo "building kustomize $KUSTOMIZE_VERSION (Go module proxy; once, then cached)"
  go_dir="$stack_dir/cache/go"
  # GOTOOLCHAIN=auto: an older Go (>= 1.21) fetches the toolchain kustomize needs
  GOBIN="$(dirname "$kustomize_bin")" GOPATH="$go_dir" GOMODCACHE="$go_dir/mod" \
    GOCACHE="$go_dir/build" GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=auto \
    CGO_ENABLED=0 go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
fi
