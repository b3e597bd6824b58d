"""End to end: partners and deals set up through their services, then every report file
uploaded through sellthrough's HTTP ingestion (several at once), timed until the inventory,
rebate and scorecard views all show the expected totals."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import views
from bench.cluster import Cluster
from bench.dataset import Dataset
from bench.metrics import consumer_stats
from bench.views import Check

Progress = Callable[[str, int, int], None]
CSV = {"content-type": "text/csv", "x-submitted-by": "bench"}


@dataclass
class EndToEnd:
    lines: int
    files: int
    accepted: int = 0
    rejected: int = 0
    held: int = 0
    upload_seconds: float = 0.0
    seconds: float = 0.0  # first upload to all three views settled
    settled_at: dict[str, float] = field(default_factory=dict)  # seconds after the first upload
    checks: list[Check] = field(default_factory=list)
    consumers: dict[str, Any] = field(default_factory=dict)  # /metrics after settling
    failed_uploads: dict[str, str] = field(default_factory=dict)  # file -> error
    ok: bool = False

    @property
    def lines_per_second(self) -> float:
        return self.lines / self.seconds if self.seconds else 0.0


def _ok(response: httpx.Response, what: str) -> Any:
    if response.status_code >= 300:
        raise RuntimeError(f"{what}: HTTP {response.status_code} {response.text[:300]}")
    return response.json()


async def _eventually(
    check: Callable[[], Awaitable[bool]], what: str, within: float, interval: float = 0.25
) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not done within {within:.0f}s")
        await asyncio.sleep(interval)


async def set_up_partners_and_deals(
    client: httpx.AsyncClient, cluster: Cluster, ds: Dataset, within: float = 120
) -> None:
    """Enrol every partner (bulk CSV), wait until sellthrough knows them all, register deals."""
    body = _ok(
        await client.post(
            f"{cluster.url('onboarding')}/partners/bulk",
            content=ds.partners_csv.read_bytes(),
            headers={"content-type": "text/csv"},
            timeout=300,
        ),
        "bulk enrolment",
    )
    if body["enrolled"] != len(ds.partner_ids):
        refused = [r for r in body["results"] if r["status"] != "enrolled"][:3]
        raise RuntimeError(
            f"onboarding enrolled {body['enrolled']}/{len(ds.partner_ids)}: {refused}"
        )
    unknown = list(ds.partner_ids)
    gate = asyncio.Semaphore(16)

    async def known(pid: str) -> bool:
        async with gate:
            r = await client.get(f"{cluster.url('sellthrough')}/partners/{pid}")
            return r.status_code == 200

    async def all_known() -> bool:
        nonlocal unknown
        found = await asyncio.gather(*(known(p) for p in unknown))
        unknown = [p for p, ok in zip(unknown, found, strict=True) if not ok]
        return not unknown

    await _eventually(all_known, "sellthrough learning every partner", within, 0.5)

    async def register(deal: Any) -> None:
        async with gate:
            answer = _ok(
                await client.post(f"{cluster.url('dealreg')}/deals", json=deal.request()),
                f"deal {deal.deal_id}",
            )
        if answer["status"] != "APPROVED":
            raise RuntimeError(f"deal {deal.deal_id} not approved: {answer}")
        expires = answer["deal"]["protection_expires_on"]
        if expires != deal.window.expires_on.isoformat():
            raise RuntimeError(f"deal {deal.deal_id} protected until {expires}, expected otherwise")

    await asyncio.gather(*(register(d) for d in ds.deals))


async def upload(client: httpx.AsyncClient, base: str, path: Path, kind: str) -> dict[str, Any]:
    return dict(
        _ok(
            await client.post(
                f"{base}/{kind}", content=path.read_bytes(), headers=CSV, timeout=None
            ),
            f"upload {path.name}",
        )
    )


async def _watch(
    name: str,
    check: Callable[[], Awaitable[Check]],
    started: float,
    deadline: float,
    after: asyncio.Event | None,
    done: asyncio.Event,
    out: dict[str, float],
    last: dict[str, Check],
) -> None:
    """Poll one view until it is right. The pause between polls is twice the last poll's
    duration (at least 0.5 s), so the harness's reads stay a small share of the machine."""
    if after is not None:
        try:
            await asyncio.wait_for(after.wait(), max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            return
    while time.monotonic() < deadline:
        asked = time.monotonic()
        last[name] = await check()
        now = time.monotonic()
        if last[name].ok:
            out[name] = now - started
            done.set()
            return
        await asyncio.sleep(max(0.5, 2 * (now - asked)))


async def settle(
    client: httpx.AsyncClient, cluster: Cluster, ds: Dataset, started: float, within: float
) -> tuple[dict[str, float], list[Check]]:
    """Poll each view until it equals the expected totals; when each first did (seconds after
    `started`, taken when the matching answer arrived) and the last checks. Scorecards are
    read only once the rebates are right: their rebate_accrued comes from the RebateAccrued
    events incentives publishes after writing its ledger, so they cannot be right before."""
    readers = {
        "inventory": lambda: views.inventory(client, cluster.url("sellthrough"), ds.expected),
        "rebates": lambda: views.rebates(client, cluster.url("incentives"), ds.expected),
        "scorecards": lambda: views.scorecards(client, cluster.url("analytics"), ds.expected),
    }
    done = {name: asyncio.Event() for name in readers}
    gate = {"scorecards": done["rebates"]}
    settled: dict[str, float] = {}
    last: dict[str, Check] = {}
    deadline = time.monotonic() + within
    await asyncio.gather(
        *(
            _watch(name, read, started, deadline, gate.get(name), done[name], settled, last)
            for name, read in readers.items()
        )
    )
    return settled, [last[n] for n in readers if n in last]


async def run(
    cluster: Cluster,
    ds: Dataset,
    *,
    concurrency: int = 4,
    settle_timeout: float = 600,
    progress: Progress | None = None,
) -> EndToEnd:
    result = EndToEnd(lines=ds.expected.lines + ds.expected.rejected, files=len(ds.reports))
    base = cluster.url("sellthrough")
    limits = httpx.Limits(max_connections=concurrency + 8)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        await views.program_is_default(client, cluster.url("incentives"))
        await set_up_partners_and_deals(client, cluster, ds)
        started = time.monotonic()
        await upload(client, base, ds.shipments, "shipments")
        queue = list(ds.reports)
        done = 0

        async def worker() -> None:
            nonlocal done
            while queue:
                path = queue.pop(0)
                try:
                    answer = await upload(client, base, path, "reports")
                except (RuntimeError, httpx.HTTPError) as exc:
                    result.failed_uploads[path.name] = f"{type(exc).__name__}: {exc}"[:300]
                    continue
                result.accepted += answer["accepted"]
                result.held += answer["held"]
                result.rejected += sum(answer["rejected"].values())
                done += 1
                if progress:
                    progress("upload", done, len(ds.reports))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.upload_seconds = time.monotonic() - started
        if result.failed_uploads:  # the views can never reach the expected totals
            return result
        settled, checks = await settle(client, cluster, ds, started, settle_timeout)
        for name in cluster.sets:
            result.consumers[name] = await consumer_stats(client, cluster.url(name))
    result.settled_at = settled
    result.checks = checks
    result.ok = len(settled) == 3 and all(c.ok for c in checks)
    result.seconds = max(settled.values()) if result.ok else 0.0
    return result
