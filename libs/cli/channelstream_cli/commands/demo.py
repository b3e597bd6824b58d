"""`channelstream demo`: the whole system end to end on a realistic sample dataset."""

from __future__ import annotations

import asyncio
import csv
import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer
from channelstream_common.admin import ensure_topics, register_schemas
from channelstream_common.kafka_security import client_kwargs
from channelstream_common.serde import AvroSerde
from channelstream_common.settings import Settings
from rich.table import Table

from channelstream_cli import sample_data, services, stack
from channelstream_cli.client import request
from channelstream_cli.output import console, fail

QUARTER = "2026-Q3"
# lines for partners nobody enrols are held this long before UNKNOWN_* (short for the demo)
DEMO_ENV = {"CHANNELSTREAM_SELLTHROUGH_HOLD_GRACE_SECONDS": "20"}


def _check(resp: Any, what: str) -> Any:
    if resp.status_code >= 500:
        fail(f"{what}: HTTP {resp.status_code} {resp.text[:200]}")
    return resp.json()


def _provision() -> None:
    s = Settings.from_env("cli")

    async def run() -> None:
        await ensure_topics(s.kafka_bootstrap, s.topic_prefix, security=client_kwargs(s))
        await register_schemas(AvroSerde(s.schema_registry_url, s.topic_prefix))

    asyncio.run(run())


def _await_partners_known(partners: Path, timeout: float = 60) -> None:
    """Dealreg and sellthrough learn partners from PartnerEnrolled events, each at its own pace.
    A deal for a partner dealreg has not seen is refused (UNKNOWN_PARTNER) and a line for one
    sellthrough has not seen is held, so the demo's counts are only stable once both have."""
    with partners.open(newline="") as f:
        ids = [r["partner_id"] for r in csv.DictReader(f) if not r["partner_id"].startswith("XX-")]
    deadline = time.monotonic() + timeout
    for service in ("dealreg", "sellthrough"):
        for pid in ids:
            while request(service, "GET", f"/partners/{pid}").status_code == 404:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.2)


def push(data: sample_data.Dataset) -> dict[str, Any]:
    """Send the dataset through the public HTTP ways in; returns what each service answered."""
    out: dict[str, Any] = {}
    out["partners"] = _check(
        request(
            "onboarding",
            "POST",
            "/partners/bulk",
            content=data.partners.read_bytes(),
            headers={"content-type": "text/csv"},
        ),
        "enrol partners",
    )
    _await_partners_known(data.partners)
    decisions = []
    for deal in json.loads(data.deals.read_text()):
        decisions.append(_check(request("dealreg", "POST", "/deals", json=deal), "register deal"))
    out["deals"] = decisions
    out["shipments"] = _check(
        request(
            "sellthrough",
            "POST",
            "/shipments",
            content=data.shipments.read_bytes(),
            headers={"content-type": "text/csv", "x-submitted-by": "demo"},
        ),
        "upload shipments",
    )
    out["reports"] = [
        _check(
            request(
                "sellthrough",
                "POST",
                "/reports",
                content=path.read_bytes(),
                headers={"content-type": "text/csv", "x-submitted-by": "demo"},
            ),
            f"upload {path.name}",
        )
        for path in data.reports
    ]
    return out


def _totals(quarter: str) -> dict[str, Any]:
    rows = request("sellthrough", "GET", "/inventory").json()["rows"]
    cards = request("analytics", "GET", f"/scorecards?quarter={quarter}").json()["scorecards"]
    ledger = request("incentives", "GET", f"/ledger?period={quarter}&limit=1").json()
    return {
        "inventory_units": sum(int(r["sell_through_units"]) for r in rows),
        "inventory_loading": sorted(
            (r["distributor_id"], r["sku"]) for r in rows if r["loading_flag"]
        ),
        "scorecard_rebates": sum(Decimal(str(c["rebate_accrued"] or 0)) for c in cards),
        "ledger_rebates": sum(Decimal(str(t["amount"])) for t in ledger["totals"]),
        "cards": cards,
        "inventory": rows,
    }


def settle(quarter: str = QUARTER, timeout: float = 180) -> dict[str, Any]:
    """Wait until the views agree with each other and stop changing (checked by totals)."""
    deadline = time.monotonic() + timeout
    previous: dict[str, Any] | None = None
    with console.status("waiting for the views to settle..."):
        while time.monotonic() < deadline:
            now = _totals(quarter)
            agreed = now["scorecard_rebates"] == now["ledger_rebates"] and now["inventory_units"]
            if (
                agreed
                and previous is not None
                and all(
                    now[k] == previous[k]
                    for k in ("inventory_units", "ledger_rebates", "scorecard_rebates")
                )
            ):
                return now
            previous = now
            time.sleep(2)
    fail("the views did not settle within the timeout; see .stack/logs/")


def summarize(answers: dict[str, Any], totals: dict[str, Any], qbr: Path) -> None:
    accepted = sum(r.get("accepted", 0) for r in answers["reports"])
    duplicates = sum(r.get("duplicates", 0) for r in answers["reports"])
    rejected: dict[str, int] = {}
    for r in answers["reports"]:
        for reason, n in (r.get("rejected") or {}).items():
            rejected[reason] = rejected.get(reason, 0) + n
    p = answers["partners"]
    console.print(
        f"partners: {p.get('enrolled', 0)} enrolled, {p.get('unchanged', 0)} unchanged, "
        f"{p.get('rejected', 0)} rejected"
    )
    statuses = [str(d.get("status")) for d in answers["deals"]]
    console.print(
        f"deals: {statuses.count('APPROVED')} approved, "
        f"{len(statuses) - statuses.count('APPROVED')} rejected or repeated"
    )
    console.print(
        f"sell-through lines: {accepted} accepted, {duplicates} already known, "
        f"rejected {sum(rejected.values())} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(rejected.items()))})"
    )
    t = Table(
        "distributor",
        "sell-through rev",
        "units",
        "ST/SI",
        "active resellers",
        "rebate accrued",
        "loading SKUs",
        title=f"Distributor scorecards {QUARTER}",
    )
    dists = [c for c in totals["cards"] if c.get("partner_type") == "DISTRIBUTOR"]
    for c in sorted(dists, key=lambda c: -Decimal(str(c["sell_through_revenue"]))):
        t.add_row(
            c["partner_id"],
            str(c["sell_through_revenue"]),
            str(c["sell_through_units"]),
            str(c.get("sell_through_to_sell_in")),
            str(c.get("active_resellers")),
            str(c["rebate_accrued"]),
            str(c.get("loading_skus")),
        )
    console.print(t)
    console.print(f"rebates accrued in {QUARTER}: {totals['ledger_rebates']} (ledger = scorecards)")
    console.print(
        "loading flags: "
        + (", ".join(f"{d}/{s}" for d, s in totals["inventory_loading"]) or "none")
    )
    console.print(f"QBR report: [bold]{qbr}[/]")


def demo(
    out: Path = typer.Option(Path(".stack/demo"), help="where the dataset and reports go"),
    seed: int = typer.Option(2026, help="dataset seed (same seed, same files)"),
) -> None:
    """Bring up the stack and all five services, push a sample dataset through the public ways
    in, wait for the views to settle, print a summary and write a QBR report."""
    try:
        with console.status("starting Kafka, the schema registry and PostgreSQL..."):
            stack.up()
        with console.status("creating topics and registering schemas..."):
            _provision()
        with console.status("starting the five services..."):
            svc = services.default()
            svc.env.update(DEMO_ENV)
            svc.up()
    except stack.StackError as exc:
        fail(str(exc))
    catalog = stack.repo_root() / "services/sellthrough/sellthrough/data/catalog.csv"
    data = sample_data.generate(out.resolve(), catalog, seed)
    with console.status("pushing the dataset through HTTP..."):
        answers = push(data)
    totals = settle()
    top = "DIST-NA"
    html = request("analytics", "GET", f"/qbr/{top}/{QUARTER}")
    if html.status_code != 200:
        fail(f"QBR failed: HTTP {html.status_code} {html.text[:200]}")
    qbr = out.resolve() / f"qbr-{top}-{QUARTER}.html"
    qbr.write_text(html.text)
    summarize(answers, totals, qbr)
