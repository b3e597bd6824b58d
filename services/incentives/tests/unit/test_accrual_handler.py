"""The accrual handler over the in-memory repository: order-independence, idempotency, events."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from channelstream_common.events import derived_id
from hypothesis import given, settings
from hypothesis import strategies as st
from incentives.adapters.memory import InMemoryRepository
from incentives.adapters.program_files import BUNDLED, load_programs
from incentives.domain.model import Deal, Line, Partner, Reason, to_cents
from incentives.domain.programs import Program
from incentives.domain.rules import entitlement
from incentives.domain.statement import build_statement
from incentives.service_layer.accrue import accrue
from incentives.service_layer.facts import Batch, DealFact, LineFact, PartnerFact, Trigger

DEFAULT: tuple[Program, ...] = load_programs(BUNDLED)
(PROGRAM,) = DEFAULT
assert PROGRAM.volume and PROGRAM.volume.default
TABLE = PROGRAM.volume.default
T0 = datetime(2026, 10, 1, tzinfo=UTC)
LINES, DEALS, PARTNERS = (
    "sellthrough.sell-through-reported",
    "dealreg.deal-registered",
    "onboarding.partner-enrolled",
)
TIERED = """
id: partner-growth
version: 2
currency: USD
distributor_volume_rebate:
  rates_by_tier:
    GOLD: [{from: 0, rate: "0.015"}, {from: 50000, rate: "0.025"}]
  product_lines: [SERVERS]
deal_registration_bonus:
  rate_by_tier: {SILVER: "0.05"}
"""


def trigger(event_id: str, topic: str, seconds: float = 0) -> Trigger:
    return Trigger(event_id, f"corr-{event_id}", T0 + timedelta(seconds=seconds), None, topic)


def line(
    n: int,
    quantity: int = 1,
    price: str = "1000",
    *,
    distributor: str = "D-1",
    reseller: str = "R-1",
    sold_on: date = date(2026, 11, 5),
    deal: str | None = None,
    currency: str = "USD",
    product_line: str | None = "SERVERS",
    event_id: str | None = None,
    report: str = "REP-1",
) -> LineFact:
    eid = event_id or f"line-{n}"
    facts = Line(
        eid, distributor, reseller, report, n, product_line, quantity, Decimal(price),
        currency, sold_on, deal,
    )  # fmt: skip
    return LineFact(facts, trigger(eid, LINES, n), (0, n))


def deal(deal_id: str = "DEAL-1", partner: str = "R-1", recorded: float = 10_000) -> DealFact:
    d = Deal(deal_id, partner, date(2026, 10, 1), date(2026, 12, 29))
    return DealFact(d, trigger(f"ev-{deal_id}", DEALS, recorded))


def partner(pid: str, ptype: str = "DISTRIBUTOR", tier: str = "GOLD") -> PartnerFact:
    return PartnerFact(Partner(pid, ptype, tier), trigger(f"ev-{pid}", PARTNERS, 20_000))


def run(batches: Sequence[Batch], programs: Sequence[Program] = DEFAULT) -> InMemoryRepository:
    repo = InMemoryRepository()

    async def go() -> None:
        for b in batches:
            await accrue(b, programs, repo)

    asyncio.run(go())
    return repo


def lines_only(*facts: LineFact) -> Batch:
    return Batch([], [], list(facts))


def ledger(repo: InMemoryRepository) -> dict[str, tuple[str, Reason, Decimal]]:
    return {
        i: (p.accrual.partner_id, p.accrual.reason, p.accrual.amount)
        for i, p in repo.ledger.items()
    }


def partner_total(repo: InMemoryRepository, pid: str, period: str = "2026-Q4") -> Decimal:
    return sum(
        (
            p.accrual.amount
            for p in repo.ledger.values()
            if p.accrual.partner_id == pid and p.accrual.period == period
        ),
        Decimal(0),
    )


def tiered(tmp_path: Path) -> tuple[Program, ...]:
    (tmp_path / "growth.yaml").write_text(TIERED)
    return load_programs(tmp_path)


# --- distributor volume rebate -------------------------------------------------------------------

money_lines = st.lists(
    st.tuples(
        st.integers(-40, 60).filter(bool),
        st.decimals(min_value=0, max_value=25000, places=4, allow_nan=False),
        st.sampled_from([date(2026, 9, 30), date(2026, 10, 1), date(2026, 12, 31)]),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(spec=money_lines, data=st.data())
def test_any_order_of_a_distributors_lines_accrues_exactly_the_entitlement_of_final_revenue(
    spec, data
):
    order = data.draw(st.permutations(range(len(spec))))
    facts = []
    for position, i in enumerate(order):  # the log order is the permuted order
        qty, price, sold_on = spec[i]
        facts.append(line(position, qty, str(price), sold_on=sold_on, event_id=f"line-{i}"))
    cuts = sorted(data.draw(st.sets(st.integers(1, len(facts)), max_size=5)) | {len(facts)})
    batches, start = [], 0
    for cut in cuts:
        batches.append(lines_only(*facts[start:cut]))
        start = cut
    repo = run(batches)
    for period in ("2026-Q3", "2026-Q4"):
        final = sum((f.line.revenue for f in facts if f.line.period == period), Decimal(0))
        total = partner_total(repo, "D-1", period)
        assert total == entitlement(TABLE, final)
        lines_ = [p.accrual for p in repo.ledger.values() if p.accrual.period == period]
        statement = build_statement("D-1", period, lines_, repo.totals_for("D-1", period))
        assert statement.total == total
        assert sum((a.amount for a in statement.lines), Decimal(0)) == statement.total
        assert statement.discrepancies() == []
    assert set(repo.ledger) >= {
        derived_id(f.line.event_id, "BASE", PROGRAM.program_id, 1) for f in facts
    }


def test_hand_computed_quarter_crossing_both_thresholds_and_returning_below_one():
    repo = run(
        [
            lines_only(line(0, 60, "1000"), line(1, 60, "1000")),
            lines_only(line(2, 400, "1000")),
            lines_only(line(3, -30, "1000")),
        ]
    )
    amounts = [
        (p.accrual.reason, p.accrual.amount)
        for p in repo.ledger.values()
        if p.accrual.partner_id == "D-1"
    ]
    assert amounts == [
        (Reason.BASE, Decimal("600.00")),
        (Reason.BASE, Decimal("600.00")),
        (Reason.TIER_TRUE_UP, Decimal("1200.00")),
        (Reason.BASE, Decimal("8000.00")),
        (Reason.TIER_TRUE_UP, Decimal("5200.00")),
        (Reason.BASE, Decimal("-900.00")),
        (Reason.TIER_TRUE_UP, Decimal("-4900.00")),
    ]
    assert partner_total(repo, "D-1") == Decimal("9800.00") == entitlement(TABLE, Decimal(490000))
    last = list(repo.ledger.values())[-1].accrual
    assert (last.running_before, last.running_after) == (Decimal(520000), Decimal(490000))


# --- deal-registration bonus ---------------------------------------------------------------------

bonus_lines = st.lists(
    st.tuples(
        st.integers(-20, 40).filter(bool),
        st.decimals(min_value=0, max_value=5000, places=4, allow_nan=False),
        st.sampled_from(["R-1", "R-1", "R-2"]),  # R-2 claims a deal registered to R-1
        st.sampled_from([date(2026, 11, 5), date(2026, 12, 30)]),  # 12-30: after protection
    ),
    min_size=1,
    max_size=20,
)


def _bonus_view(repo: InMemoryRepository) -> dict[str, Any]:
    return {
        "ledger": ledger(repo),
        "skipped": {k: (s.code, s.detail) for k, s in repo.skipped.items()},
        "pending": dict(repo.pending),
        "events": sorted((e for e in repo.events), key=lambda e: e["accrual_id"]),
    }


@settings(max_examples=100, deadline=None)
@given(spec=bonus_lines, at=st.integers(0, 20), together=st.booleans())
def test_bonus_is_the_same_whether_the_deal_arrives_before_or_after_its_lines(spec, at, together):
    facts = [
        line(i, q, str(p), reseller=r, sold_on=s, deal="DEAL-1")
        for i, (q, p, r, s) in enumerate(spec)
    ]
    at = min(at, len(facts))
    registered = deal(recorded=at - 0.5)  # recorded between line at-1 and line at
    first = run([Batch([], [registered], [])] + [lines_only(f) for f in facts])
    later = [lines_only(f) for f in facts[:at]]
    if together:
        later.append(Batch([], [registered], facts[at:]))
    else:
        later += [Batch([], [registered], [])] + [lines_only(f) for f in facts[at:]]
    second = run(later)
    assert _bonus_view(first) == _bonus_view(second)  # events too, field for field
    eligible = [f for f in facts if f.line.reseller_id == "R-1" and f.line.sold_on.month == 11]
    expected = sum((to_cents(Decimal("0.02") * f.line.revenue) for f in eligible), Decimal(0))
    assert partner_total(second, "R-1") == expected
    assert partner_total(second, "R-2") == 0
    for f in eligible:
        bonus = derived_id(f.line.event_id, "DEAL_REG_BONUS", "channel-rebates", 1)
        cause = second.ledger[bonus].trigger.event_id
        assert cause == ("ev-DEAL-1" if f in facts[:at] else f.line.event_id)


def test_a_line_naming_an_unknown_deal_waits_and_accrues_no_bonus():
    repo = run([lines_only(line(0, 10, "100", deal="NO-SUCH-DEAL"))])
    assert partner_total(repo, "R-1") == 0
    (waiting,) = repo.pending.values()
    assert (waiting.awaiting.value, waiting.key) == ("DEAL", "NO-SUCH-DEAL")


def test_deal_of_another_reseller_and_sale_outside_protection_are_skipped_with_codes():
    repo = run(
        [
            Batch([], [deal()], []),
            lines_only(line(0, 1, "100", reseller="R-2", deal="DEAL-1")),
            lines_only(line(1, 1, "100", sold_on=date(2026, 12, 30), deal="DEAL-1")),
        ]
    )
    codes = sorted((s.line_event_id, s.code) for s in repo.skipped.values())
    assert codes == [("line-0", "DEAL_NOT_FOR_RESELLER"), ("line-1", "SOLD_OUTSIDE_PROTECTION")]
    assert partner_total(repo, "R-1") == partner_total(repo, "R-2") == 0
    assert partner_total(repo, "D-1") == Decimal("2.00")  # the volume rebate still applies


def test_a_return_claws_back_the_bonus():
    repo = run(
        [
            Batch([], [deal()], [line(0, 3, "112.50", deal="DEAL-1")]),
            lines_only(line(1, -1, "112.50", deal="DEAL-1")),
        ]
    )
    bonuses = [
        p.accrual.amount for p in repo.ledger.values() if p.accrual.reason is Reason.DEAL_REG_BONUS
    ]
    assert bonuses == [Decimal("6.75"), Decimal("-2.25")]


# --- currency, periods, duplicates ---------------------------------------------------------------


def test_a_line_in_another_currency_is_not_accrued_and_says_why():
    repo = run([Batch([], [deal()], [line(0, 5, "100", currency="EUR", deal="DEAL-1")])])
    assert repo.ledger == {}
    assert sorted((s.rule, s.code) for s in repo.skipped.values()) == [
        ("DEAL_REG_BONUS", "CURRENCY_MISMATCH"),
        ("DISTRIBUTOR_VOLUME", "CURRENCY_MISMATCH"),
    ]


def test_a_line_outside_every_program_period_is_recorded_as_not_covered(tmp_path: Path):
    (tmp_path / "p.yaml").write_text(
        "id: later\nversion: 1\ncurrency: USD\nvalid_from: 2027-Q1\n"
        "distributor_volume_rebate: {rates: [{from: 0, rate: '0.01'}]}\n"
    )
    repo = run([lines_only(line(0))], load_programs(tmp_path))
    assert repo.ledger == {}
    (skip,) = repo.skipped.values()
    assert (skip.program_id, skip.code) == ("-", "NO_PROGRAM_FOR_PERIOD")


def test_redelivery_and_a_repeated_report_line_under_a_new_event_id_change_nothing():
    first = line(0, 10, "1000")
    repo = run([lines_only(first), lines_only(first, first)])
    assert len(repo.ledger) == 1 and len(repo.events) == 1
    again = line(0, 10, "1000", event_id="line-0-resent")
    repo2 = run([lines_only(first), lines_only(again)])
    assert ledger(repo2) == ledger(repo)
    (dup,) = repo2.skipped.values()
    assert (dup.line_event_id, dup.code) == ("line-0-resent", "DUPLICATE_LINE")
    assert "line-0" in dup.detail


# --- per-tier tables and product lines (second program) ------------------------------------------


def test_tier_tables_wait_for_the_partner_and_apply_its_lines_in_log_order(tmp_path: Path):
    programs = DEFAULT + tiered(tmp_path)
    facts = [line(i, q, "1000") for i, q in enumerate([30, 30, -15, 40])]
    late = run(
        [lines_only(*facts[:2]), lines_only(facts[2]), Batch([partner("D-1")], [], facts[3:])],
        programs,
    )
    early = run(
        [Batch([partner("D-1")], [], []), lines_only(*facts[:2]), lines_only(*facts[2:])], programs
    )
    assert ledger(late) == ledger(early)
    growth = [p.accrual for p in late.ledger.values() if p.accrual.program_id == "partner-growth"]
    # GOLD: 1.5 % below 50 000, 2.5 % from 50 000 (retroactive): 30k, 60k, 45k, 85k
    assert [(a.reason, a.amount) for a in growth] == [
        (Reason.BASE, Decimal("450.00")),
        (Reason.BASE, Decimal("450.00")),
        (Reason.TIER_TRUE_UP, Decimal("600.00")),
        (Reason.BASE, Decimal("-375.00")),
        (Reason.TIER_TRUE_UP, Decimal("-450.00")),
        (Reason.BASE, Decimal("600.00")),
        (Reason.TIER_TRUE_UP, Decimal("850.00")),
    ]
    assert sum(a.amount for a in growth) == Decimal("2125.00")  # 2.5 % of 85 000
    causes = {
        p.trigger.event_id for p in late.ledger.values() if p.accrual.program_id == "partner-growth"
    }
    assert causes == {"ev-D-1"}  # enrolment recorded after every line: it released them


def test_tier_and_product_line_eligibility_are_coded_skips(tmp_path: Path):
    programs = tiered(tmp_path)
    repo = run(
        [
            Batch(
                [partner("D-1", tier="SILVER"), partner("R-1", "RESELLER", "GOLD")], [deal()], []
            ),
            lines_only(
                line(0, 1, "100", deal="DEAL-1"), line(1, 1, "100", product_line="PRINTERS")
            ),
        ],
        programs,
    )
    assert repo.ledger == {}
    assert sorted((s.line_event_id, s.rule, s.code) for s in repo.skipped.values()) == [
        ("line-0", "DEAL_REG_BONUS", "TIER_NOT_ELIGIBLE"),
        ("line-0", "DISTRIBUTOR_VOLUME", "TIER_NOT_ELIGIBLE"),
        ("line-1", "DISTRIBUTOR_VOLUME", "PRODUCT_LINE_NOT_ELIGIBLE"),
    ]


def test_tiered_bonus_waits_for_deal_then_reseller_enrolment(tmp_path: Path):
    programs = tiered(tmp_path)
    repo = run(
        [
            lines_only(line(0, 2, "1000", deal="DEAL-1")),
            Batch([], [deal()], []),
            Batch([partner("R-1", "RESELLER", "SILVER")], [], []),
        ],
        programs,
    )
    (bonus,) = [p for p in repo.ledger.values() if p.accrual.reason is Reason.DEAL_REG_BONUS]
    assert (bonus.accrual.amount, bonus.accrual.rate, bonus.trigger.event_id) == (
        Decimal("100.00"),
        Decimal("0.05"),
        "ev-R-1",
    )


# --- arrival order across topics -----------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_interleaving_of_partner_deal_and_line_topics_gives_the_same_ledger(
    data, tmp_path_factory
):
    programs = DEFAULT + tiered(tmp_path_factory.mktemp("p"))
    qty = data.draw(st.lists(st.integers(-30, 80).filter(bool), min_size=1, max_size=12))
    lines_ = [line(i, q, "1000", deal="DEAL-1" if i % 2 else None) for i, q in enumerate(qty)]
    facts: list[Any] = [partner("D-1"), partner("R-1", "RESELLER", "SILVER"), deal()]
    streams = {"lines": list(lines_), "partners": facts[:2], "deals": facts[2:]}
    events: list[Any] = []
    while any(streams.values()):  # merge, keeping each topic's own order
        topic = data.draw(st.sampled_from(sorted(k for k, v in streams.items() if v)))
        events.append(streams[topic].pop(0))
    cuts = data.draw(st.lists(st.integers(1, 4), min_size=len(events), max_size=len(events)))
    batches, i = [], 0
    for size in cuts:
        chunk = events[i : i + size]
        i += size
        if chunk:
            batches.append(
                Batch(
                    [e for e in chunk if isinstance(e, PartnerFact)],
                    [e for e in chunk if isinstance(e, DealFact)],
                    [e for e in chunk if isinstance(e, LineFact)],
                )
            )
    baseline = run([Batch(facts[:2], facts[2:], []), lines_only(*lines_)], programs)
    shuffled = run(batches, programs)
    assert ledger(shuffled) == ledger(baseline)
    assert shuffled.volume == baseline.volume and shuffled.pending == baseline.pending == {}
    assert {e["accrual_id"]: e["amount"] for e in shuffled.events} == {
        e["accrual_id"]: e["amount"] for e in baseline.events
    }


# --- the events ----------------------------------------------------------------------------------


def test_rebate_accrued_carries_the_accrual_and_its_cause_without_reading_the_clock():
    repo = run([Batch([], [deal(recorded=1)], [line(7, 2, "1000", deal="DEAL-1")])])
    by_reason = {e["reason"]: e for e in repo.events}
    base, bonus = by_reason["BASE"], by_reason["DEAL_REG_BONUS"]
    assert base["accrual_id"] == derived_id("line-7", "BASE", "channel-rebates", 1)
    assert bonus["accrual_id"] == derived_id("line-7", "DEAL_REG_BONUS", "channel-rebates", 1)
    for event in (base, bonus):
        meta = event["metadata"]
        assert meta["event_id"] == event["accrual_id"]
        assert (
            meta["causation_id"] == "line-7" == event["source_event_id"] == event["line_event_id"]
        )
        assert meta["correlation_id"] == "corr-line-7"
        assert meta["occurred_at"] == meta["recorded_at"] == T0 + timedelta(seconds=7)
        assert meta["producer"] == "incentives" and meta["trace_id"] is None
        assert event["source_topic"] == LINES and event["currency"] == "USD"
        assert (event["program_id"], event["program_version"], event["period"]) == (
            "channel-rebates",
            1,
            "2026-Q4",
        )
    assert (base["partner_id"], base["amount"], base["rate"]) == (
        "D-1",
        Decimal("20.00"),
        Decimal("0.01"),
    )
    assert (bonus["partner_id"], bonus["amount"], bonus["deal_id"]) == (
        "R-1",
        Decimal("40.00"),
        "DEAL-1",
    )


def test_a_bonus_released_by_a_later_deal_is_caused_by_the_deal_and_names_its_line():
    repo = run([lines_only(line(7, 2, "1000", deal="DEAL-1")), Batch([], [deal()], [])])
    (event,) = [e for e in repo.events if e["reason"] == "DEAL_REG_BONUS"]
    meta = event["metadata"]
    assert meta["causation_id"] == "ev-DEAL-1" == event["source_event_id"]
    assert event["source_topic"] == DEALS and event["line_event_id"] == "line-7"
    assert meta["correlation_id"] == "corr-ev-DEAL-1"
    assert meta["recorded_at"] == T0 + timedelta(seconds=10_000)
    assert event["accrual_id"] == derived_id("line-7", "DEAL_REG_BONUS", "channel-rebates", 1)
