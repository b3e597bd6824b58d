"""The freshness probe's bookkeeping: a refused upload never shows its unit, so neither the
reports sent before it nor those sent after wait for it."""

from __future__ import annotations

from bench.freshness import _Probe, _Target, hops


def send(probe: _Probe, i: int) -> _Target:
    return probe.sending(i, at=float(i))


def test_reports_sent_after_a_refused_one_wait_for_one_unit_less() -> None:
    probe = _Probe()
    send(probe, 0)
    refused = send(probe, 1)
    during = send(probe, 2)
    probe.failed(refused)
    after = send(probe, 3)
    assert [t.units for t in probe.targets] == [1, 2, 3]
    assert (during.units, after.units) == (2, 3)


def test_a_refusal_already_counted_by_the_poller_still_lowers_the_later_targets() -> None:
    probe = _Probe()
    refused = send(probe, 0)
    later = send(probe, 1)
    probe.targets.remove(refused)  # the poller matched it on the later report's unit
    probe.failed(refused)
    assert later.units == 1 and send(probe, 2).units == 2


def test_hops_are_percentiles_over_the_probes_that_have_both_moments() -> None:
    targets = [_Target(1, 0.0, i, sent=10.0 * i, decided=10.0 * i + i) for i in range(1, 5)]
    targets[0].published = targets[0].decided + 0.5  # the only one read back from the topic
    spans = hops(targets)
    assert spans["sent -> decided"] == {"p50": 2.0, "p95": 4.0, "p99": 4.0}
    assert spans["decided -> published"] == {"p50": 0.5, "p95": 0.5, "p99": 0.5}
    assert spans["published -> visible"] == {"p50": None, "p95": None, "p99": None}
