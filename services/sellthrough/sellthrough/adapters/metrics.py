"""sellthrough's own Prometheus metrics (served with the shared ones on /metrics)."""

from __future__ import annotations

from prometheus_client import Counter

LINES = Counter(
    "channelstream_sellthrough_lines_total",
    "Submitted lines by outcome (rejected ones by reason); held lines count again when decided",
    ["kind", "path", "outcome"],
)
