"""Freshness at a fixed offered load: small reports uploaded at a steady rate; each carries one
line (1 unit, 2026-Q4) for a probe reseller, whose analytics scorecard is polled until its units
reach the count sent so far. Latency = upload request sent -> scorecard showing the line.

Where that time goes (`hops`): the probe line's SellThroughReported carries the moment it was
decided (`ce_time`, in the upload's transaction) and the moment the relay published it (the
record's timestamp), read back from the topic after the phase; with the upload's answer and the
scorecard read, all on this machine's clock."""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from channelstream_common.events import derived_id
from channelstream_common.topics import SELL_THROUGH_REPORTED

from bench.cluster import Cluster
from bench.dataset import PROBE_QUARTER, Dataset, probe_report
from bench.endtoend import CSV

REPORTS_PER_SECOND = 10
POLL_INTERVAL = 0.05
PROBE_LINE = ("SellThroughReported",)  # its event id: derived_id(type, report id, line no)
# Probe resellers, each read at most every POLL_INTERVAL while it has a report in flight. The
# reads must not be the load: with 10, 200 scorecard reads a second took a fifth of a core of
# PostgreSQL and as much of analytics at 2 000 lines/s (a read resolves every report of its probe
# that is in, so fewer probes lose no resolution).
PROBES = 2
Progress = Callable[[str, int, int], None]


@dataclass
class Freshness:
    offered_lines_per_second: float
    seconds: float
    report_lines: int
    reports: int = 0
    sent_lines: int = 0
    achieved_lines_per_second: float = 0.0  # lines of accepted uploads / time to the last answer
    max_send_lag: float = 0.0  # how far behind schedule the sender fell, seconds
    latencies: list[float] = field(default_factory=list)
    unresolved: int = 0  # not visible within the drain timeout after the last upload
    drain_timeout: float = 0.0
    failed_uploads: dict[str, int] = field(default_factory=dict)  # status or error -> count
    upload_p50: float | None = None  # POST /reports answered
    poll_p50: float | None = None  # one scorecard read
    hops: dict[str, dict[str, float | None]] = field(default_factory=dict)  # name -> p50/95/99

    def percentile(self, p: float) -> float | None:
        """Nearest rank over every report sent; an unresolved one counts as infinitely late,
        so a percentile that falls on one is None (censored: later than the drain timeout)."""
        n = len(self.latencies) + self.unresolved
        if not n:
            return None
        rank = _rank(p, n)
        return sorted(self.latencies)[rank] if rank < len(self.latencies) else None

    def summary(self) -> dict[str, float | None]:
        return {f"p{p}": self.percentile(p) for p in (50, 95, 99)} | {
            "max": None if self.unresolved or not self.latencies else max(self.latencies)
        }


def _rank(p: float, n: int) -> int:
    """The nearest-rank index of percentile `p` among `n` sorted values (n > 0)."""
    return max(0, min(n - 1, math.ceil(p / 100 * n) - 1))


def _median(values: list[float]) -> float | None:
    return sorted(values)[len(values) // 2] if values else None


@dataclass
class _Target:
    units: int  # the probe's scorecard shows this many units once this report's line is in
    sent_at: float
    i: int
    # wall-clock moments of the probe line, for `hops`
    event_id: str = ""
    sent: float = 0.0
    answered: float | None = None
    seen: float | None = None
    decided: float | None = None
    published: float | None = None


HOPS = {  # name -> (from, to): the _Target moments
    "sent -> decided": ("sent", "decided"),
    "decided -> answered": ("decided", "answered"),
    "decided -> published": ("decided", "published"),
    "published -> visible": ("published", "seen"),
}


def hops(targets: list[_Target]) -> dict[str, dict[str, float | None]]:
    """p50/p95/p99 of each hop over the probes that have both its moments."""
    out = {}
    for name, (a, b) in HOPS.items():
        spans = sorted(
            getattr(t, b) - getattr(t, a)
            for t in targets
            if getattr(t, a) is not None and getattr(t, b) is not None
        )
        out[name] = {f"p{p}": spans[_rank(p, len(spans))] if spans else None for p in (50, 95, 99)}
    return out


async def _read_moments(cluster: Cluster, since: dict[int, int], targets: list[_Target]) -> None:
    """Fill in `decided` and `published` from the probe lines' records after `since`."""
    wanted = {t.event_id: t for t in targets}
    topic = SELL_THROUGH_REPORTED.full_name(cluster.prefix)
    consumer = AIOKafkaConsumer(bootstrap_servers=cluster.endpoints.kafka)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        end = await consumer.end_offsets(parts)
        consumer.assign(parts)
        for tp in parts:
            consumer.seek(tp, since.get(tp.partition, 0))
        remaining = {tp for tp in parts if end[tp] > since.get(tp.partition, 0)}
        while remaining:
            for tp, records in (await consumer.getmany(*remaining, timeout_ms=1000)).items():
                for rec in records:
                    headers = dict(rec.headers)
                    target = wanted.get(headers.get("ce_id", b"").decode())
                    if target is not None:
                        decided = datetime.fromisoformat(headers["ce_time"].decode())
                        target.decided = decided.timestamp()
                        target.published = rec.timestamp / 1000
                if records and records[-1].offset >= end[tp] - 1:
                    remaining.discard(tp)
    finally:
        await consumer.stop()


@dataclass
class _Probe:
    sent: int = 0
    targets: list[_Target] = field(default_factory=list)
    poller: asyncio.Task[None] | None = None

    def sending(self, i: int, at: float) -> _Target:
        """Report i, sent at `at`: its unit shows once the probe has one more than before."""
        self.sent += 1
        target = _Target(self.sent, at, i)
        self.targets.append(target)
        return target

    def failed(self, target: _Target) -> None:
        """A refused upload (one transaction: nothing of it applied) never shows its unit: the
        reports sent after it, now and later, wait for one unit less."""
        self.sent -= 1
        if target in self.targets:  # the poller may have counted it already, on a later unit
            self.targets.remove(target)
        for t in self.targets:
            if t.i > target.i:
                t.units -= 1


async def _units(client: httpx.AsyncClient, base: str, partner: str) -> int | None:
    """The probe's units in PROBE_QUARTER; None when analytics could not answer."""
    try:
        r = await client.get(f"{base}/scorecards/{partner}/{PROBE_QUARTER}")
    except httpx.HTTPError:
        return None
    if r.status_code == 404:  # no 2026-Q4 data anywhere yet
        return 0
    if r.status_code != 200:
        return None
    return int(r.json()["sell_through_units"] or 0)


async def run(
    cluster: Cluster,
    ds: Dataset,
    *,
    lines_per_second: float,
    seconds: float,
    drain_timeout: float = 60,
    since: dict[int, int] | None = None,
    seed: int = 7,
    progress: Progress | None = None,
) -> Freshness:
    rps = min(REPORTS_PER_SECOND, lines_per_second)
    size = max(1, round(lines_per_second / rps))
    n = max(1, round(rps * seconds))
    result = Freshness(lines_per_second, seconds, size, drain_timeout=drain_timeout)
    rng = random.Random(seed)
    bodies = [probe_report(i, size, ds, rng, PROBES) for i in range(n)]
    probes: dict[str, _Probe] = {p: _Probe() for p in ds.probes[:PROBES]}
    answered: list[_Target] = []
    upload_times: list[float] = []
    poll_times: list[float] = []
    analytics, sellthrough = cluster.url("analytics"), cluster.url("sellthrough")
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def poll(partner: str) -> None:
            probe = probes[partner]
            while probe.targets:
                asked = time.monotonic()
                units = await _units(client, analytics, partner)
                seen, seen_wall = time.monotonic(), time.time()
                poll_times.append(seen - asked)
                for target in [t for t in probe.targets if units is not None and t.units <= units]:
                    probe.targets.remove(target)
                    result.latencies.append(seen - target.sent_at)
                    target.seen = seen_wall
                    if progress:
                        progress("freshness", len(result.latencies), n)
                await asyncio.sleep(max(0.0, POLL_INTERVAL - (seen - asked)))
            probe.poller = None

        async def send(i: int) -> None:
            report_id, partner, body = bodies[i]
            probe = probes[partner]
            target = probe.sending(i, time.monotonic())
            target.sent, target.event_id = time.time(), derived_id(*PROBE_LINE, report_id, 1)
            if probe.poller is None:
                probe.poller = asyncio.create_task(poll(partner))
            try:
                r = await client.post(
                    f"{sellthrough}/reports", content=body, headers=CSV, timeout=None
                )
                outcome = str(r.status_code)
                if r.status_code >= 300:
                    outcome += f" {r.json().get('error', {}).get('code', '')}".rstrip()
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            if outcome != "200":
                result.failed_uploads[outcome] = result.failed_uploads.get(outcome, 0) + 1
                probe.failed(target)
                return
            upload_times.append(time.monotonic() - target.sent_at)
            target.answered = time.time()
            answered.append(target)

        started = time.monotonic()
        senders = []
        for i in range(n):
            due = started + i / rps
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            result.max_send_lag = max(result.max_send_lag, time.monotonic() - due)
            senders.append(asyncio.create_task(send(i)))
        await asyncio.gather(*senders)
        elapsed = time.monotonic() - started
        result.reports = n
        result.sent_lines = n * size
        result.achieved_lines_per_second = len(upload_times) * size / elapsed
        pollers = [p.poller for p in probes.values() if p.poller is not None]
        if pollers:
            await asyncio.wait(pollers, timeout=drain_timeout)
        result.unresolved = sum(len(p.targets) for p in probes.values())
        left = [p.poller for p in probes.values() if p.poller is not None]
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)
    if since is not None and answered:
        await _read_moments(cluster, since, answered)
        result.hops = hops(answered)
    result.upload_p50 = _median(upload_times)
    result.poll_p50 = _median(poll_times)
    return result
