"""The benchmark harness in quick mode, small: five service processes, real HTTP ingestion, and
views that must settle to the totals the harness computed from the generated lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from channelstream_common import testing

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
LINES = 2_000


@pytest.fixture(scope="module")
def quick_report(endpoints: testing.Endpoints, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("bench") / "report.json"
    env = {
        **os.environ,
        "CHANNELSTREAM_KAFKA_BOOTSTRAP": endpoints.kafka,
        "CHANNELSTREAM_SCHEMA_REGISTRY_URL": endpoints.registry,
        "CHANNELSTREAM_POSTGRES_URL": endpoints.postgres,
    }
    args = ["--quick", "--lines", str(LINES), "--file-lines", "500", "--freshness-seconds", "3"]
    done = subprocess.run(
        [sys.executable, "-m", "bench", *args, "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return dict(json.loads(out.read_text()))


@pytest.mark.timeout(600)
def test_every_view_settles_to_the_totals_expected_from_the_generated_lines(
    quick_report: dict,
) -> None:
    e2e, data = quick_report["end_to_end"], quick_report["dataset"]
    assert quick_report["ok"] is True
    assert e2e["lines"] == data["lines"] == LINES
    assert e2e["accepted"] == data["accepted"] and e2e["rejected"] == data["rejected"]
    assert 0 < data["rejected"] < LINES // 50  # a few invalid lines, refused with a reason
    assert sorted(c["view"] for c in e2e["checks"]) == ["inventory", "rebates", "scorecards"]
    for check in e2e["checks"]:
        assert check["ok"], check
        assert f"{data['net_units']} / {data['net_units']}" in check["summary"] or (
            f"{data['rebate_total']} / {data['rebate_total']}" in check["summary"]
        )
    assert set(e2e["settled_at"]) == {"inventory", "rebates", "scorecards"}
    assert e2e["seconds"] == max(e2e["settled_at"].values()) > e2e["upload_seconds"] > 0


@pytest.mark.timeout(600)
def test_baselines_read_the_same_events_and_batch_sql_agrees_with_the_harness(
    quick_report: dict,
) -> None:
    floor, batch = quick_report["baselines"]["raw_floor"], quick_report["baselines"]["batch_sql"]
    assert floor["events"] == quick_report["dataset"]["accepted"]
    assert floor["events_per_second"] > 0
    assert batch["matches_expected"] is True, batch["differences"]
    assert batch["lines"] == LINES
    ratios = quick_report["ratios"]
    assert ratios["end_to_end_over_floor"] > 0
    assert ratios["end_to_end_time_over_batch_time"] > 0


@pytest.mark.timeout(600)
def test_freshness_probes_replays_and_memory_are_reported(quick_report: dict) -> None:
    fresh = quick_report["freshness"]
    assert fresh["reports"] == 30 and fresh["unresolved"] == 0
    assert 0 < fresh["p50"] <= fresh["p95"] <= fresh["p99"] <= fresh["max"]
    replays = {f"{r['service']}.{r['projection']}": r for r in quick_report["replay"]}
    assert replays["sellthrough.inventory"]["events"] >= quick_report["dataset"]["accepted"]
    assert replays["incentives.accruals"]["applied"] >= quick_report["dataset"]["accepted"]
    assert all(r["dead_lettered"] == 0 for r in replays.values())
    rss = quick_report["peak_rss_mb"]
    assert set(rss) == {"onboarding", "dealreg", "sellthrough", "incentives", "analytics"}
    assert all(mb and mb > 20 for mb in rss.values())
    names = {t["name"] for t in quick_report["targets"]}
    assert "end-to-end lines/s" in names and "end-to-end / raw floor" in names
