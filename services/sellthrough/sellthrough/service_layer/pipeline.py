"""The one validation pipeline every way in feeds: decide a batch of lines, then record the
decisions, holds and events in the caller's transaction with a handful of bulk statements."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from channelstream_common.outbox import Outbox
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sellthrough.adapters import repository as repo
from sellthrough.adapters.metrics import LINES
from sellthrough.domain.decisions import Decision, decide
from sellthrough.domain.model import Kind, Rejection, Rules, Status
from sellthrough.domain.parsing import malformed
from sellthrough.service_layer.flavors import FLAVORS, Flavor, Line
from sellthrough.service_layer.messages import Stamp
from sellthrough.service_layer.partners import PartnerBook
from sellthrough.service_layer.submissions import Source, Submitted, Tally

Clock = Callable[[], datetime]
Outcome = list[Decision[Any]]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Pipeline:
    def __init__(
        self,
        engine: AsyncEngine,
        outbox: Outbox,
        rules: Rules,
        partners: PartnerBook,
        *,
        dead_letter_topic: str,
        grace: timedelta,
        clock: Clock = utc_now,
    ) -> None:
        self.engine = engine
        self.outbox = outbox
        self.rules = rules
        self.partners = partners
        self.dead_letter_topic = dead_letter_topic
        self.grace = grace
        self.clock = clock

    def today(self) -> date:
        """The latest calendar date anywhere (UTC+14): a sale made today in Auckland or Kiribati
        is not in the future."""
        return (self.clock() + timedelta(hours=14)).date()

    async def submit(
        self,
        conn: AsyncConnection,
        flavor: Flavor,
        items: Sequence[Submitted],
        *,
        upload_state: str = repo.STREAMING,
    ) -> dict[str, Tally]:
        """Decide newly submitted lines in the caller's transaction; returns the tally per
        upload. `upload_state`: their upload's state once they are counted (STREAMING leaves a
        known upload's state as it is)."""
        return await self._settle(
            conn, flavor, items, fresh=True, expired=False, upload_state=upload_state
        )

    async def release(self, conn: AsyncConnection, partner_ids: Sequence[str]) -> None:
        """Decide again the lines held for these partners (caller holds the partners lock)."""
        await self._redecide(conn, await repo.take_holds_for(conn, partner_ids), expired=False)

    async def sweep(self, limit: int = 2000) -> int:
        """Refuse (or, if their partner is known by now, accept) holds past the grace period."""
        async with self.engine.begin() as conn:
            await repo.lock_partners(conn)
            rows = await repo.take_expired_holds(conn, self.clock() - self.grace, limit)
            await self._redecide(conn, rows, expired=True)
        if rows:
            self.outbox.kick()
        return len(rows)

    async def _redecide(self, conn: AsyncConnection, rows: list[Row[Any]], expired: bool) -> None:
        by_kind: dict[Kind, list[Submitted]] = {}
        for r in rows:
            source = Source(
                Kind(r.kind),
                r.upload_id,
                r.ingestion_path,
                r.submitted_by,
                r.causation_id,
                r.received_on,
                r.held_at,
            )
            item = Submitted(r.fields, None, r.raw_line, r.origin, source)
            by_kind.setdefault(source.kind, []).append(item)
        for kind, items in sorted(by_kind.items()):
            await self._settle(conn, FLAVORS[kind], items, fresh=False, expired=expired)

    async def _settle(
        self,
        conn: AsyncConnection,
        flavor: Flavor,
        items: Sequence[Submitted],
        *,
        fresh: bool,
        expired: bool,
        upload_state: str = repo.STREAMING,
    ) -> dict[str, Tally]:
        """Three statements for a batch of new lines, usually: statuses, events, counters."""
        parsed = [_parse(flavor, i) for i in items]
        days = [i.source.received_on for i in items]
        await self.partners.look_up(conn, _partner_ids(flavor, parsed))
        decisions = self._decide(flavor, parsed, days, {}, expired)
        if fresh and any(d.status is Status.HELD for d in decisions):
            # A line waits for a partner: decide again under the partners lock, so that an
            # enrolment committed meanwhile is seen here, or else sees the hold and releases it.
            # (Release and the sweeper hold the lock already; other lines need no lock.)
            await repo.lock_for_intake(conn)
            held = [d.line for d in decisions if d.status is Status.HELD]
            await self.partners.look_up(conn, _partner_ids(flavor, held))
            decisions = self._decide(flavor, parsed, days, {}, expired)
        decisions = await self._record(conn, flavor, items, parsed, days, decisions, expired)
        await self._stage(conn, flavor, items, decisions)
        tallies = _tally(items, decisions, fresh)
        await repo.bump_uploads(conn, [_delta(t, s, upload_state) for t, s in tallies.values()])
        _count(flavor, items, decisions)
        return {upload_id: t for upload_id, (t, _) in tallies.items()}

    def _decide(
        self,
        flavor: Flavor,
        parsed: Sequence[Line | Rejection],
        days: Sequence[date],
        accepted: dict[Hashable, str],
        expired: bool,
    ) -> Outcome:
        check = flavor.checker(self.rules, self.partners.known)
        return decide(parsed, days, accepted, check, flavor.hasher, expired=expired)

    async def _record(
        self,
        conn: AsyncConnection,
        flavor: Flavor,
        items: Sequence[Submitted],
        parsed: Sequence[Line | Rejection],
        days: Sequence[date],
        decided: Outcome,
        expired: bool,
    ) -> Outcome:
        """Write each line's status. The write is also the look-up of lines accepted before:
        if some keys turn out to be accepted already (a file sent again, or a concurrent
        submission of the same lines that won the race), the batch is decided again knowing
        their accepted content, as duplicates or conflicts; their rows stay as they were."""
        rows: dict[Hashable, repo.LineStatus] = {}
        accepted = Status.ACCEPTED.value
        for item, d in zip(items, decided, strict=True):
            if d.status is Status.DUPLICATE:
                continue
            key = d.line.key if d.line is not None else flavor.status_key(item, d)
            if key is None:
                continue
            prior = rows.get(key)
            if prior is None or prior[0] != accepted:
                reason = d.reason.value if d.reason else None
                rows[key] = (d.status.value, reason, d.line_hash, item.source.upload_id)
        taken = await repo.record_status(conn, flavor.kind, rows)
        if not taken:
            return decided
        winners = await repo.accepted_hashes(conn, flavor.kind, taken)
        return self._decide(flavor, parsed, days, winners, expired)

    async def _stage(
        self, conn: AsyncConnection, flavor: Flavor, items: Sequence[Submitted], decided: Outcome
    ) -> None:
        now = self.clock()
        stamp = Stamp.at(now)
        events: list[Any] = []
        dead: list[dict[str, Any]] = []
        holds: list[dict[str, Any]] = []
        for item, d in zip(items, decided, strict=True):
            if d.status is Status.DUPLICATE:
                continue
            if d.status is Status.HELD:
                holds.append(_hold_row(flavor, item, d, now))
                continue
            staged, dead_letters = flavor.stage(item, d, self.rules, stamp)
            events += staged
            dead += dead_letters
        await repo.insert_holds(conn, holds)
        # every event of the batch in one call; COPY even for a few (cheaper than inserts here)
        await self.outbox.add(conn, events)
        await repo.stage_raw(self.outbox, conn, self.dead_letter_topic, dead)


def _partner_ids(flavor: Flavor, lines: Sequence[Line | Rejection | None]) -> set[str]:
    ids: set[str] = set()
    for line in lines:
        if line is None or isinstance(line, Rejection):
            continue
        distributor_id, reseller_id = flavor.partners_of(line)
        ids.add(distributor_id)
        if reseller_id:
            ids.add(reseller_id)
    return ids


def _parse(flavor: Flavor, item: Submitted) -> Line | Rejection:
    if item.problem is not None:
        return item.problem
    if item.fields is None:  # pragma: no cover - a line without fields always has a problem
        return malformed("the line has no fields")
    return flavor.parse(item.fields)


def _hold_row(flavor: Flavor, item: Submitted, d: Decision[Any], now: datetime) -> dict[str, Any]:
    assert d.line is not None and item.fields is not None
    distributor_id, reseller_id = flavor.partners_of(d.line)
    src = item.source
    return {
        "origin": item.origin,
        "kind": src.kind.value,
        "distributor_id": distributor_id,
        "reseller_id": reseller_id,
        "fields": json.dumps(dict(item.fields)),
        "raw_line": item.raw_line,
        "upload_id": src.upload_id,
        "ingestion_path": src.ingestion_path,
        "submitted_by": src.submitted_by,
        "causation_id": src.causation_id,
        "received_on": src.received_on,
        "held_at": src.held_at or now,
    }


def _tally(
    items: Sequence[Submitted], decided: Outcome, fresh: bool
) -> dict[str, tuple[Tally, Source]]:
    out: dict[str, tuple[Tally, Source]] = {}
    for item, d in zip(items, decided, strict=True):
        entry = out.get(item.source.upload_id)
        if entry is None:
            entry = out[item.source.upload_id] = (Tally(), item.source)
        entry[0].count(d.status, d.reason.value if d.reason else None, fresh=fresh)
    return out


def _count(flavor: Flavor, items: Sequence[Submitted], decided: Outcome) -> None:
    outcomes = Counter(
        (i.source.ingestion_path, _outcome(d)) for i, d in zip(items, decided, strict=True)
    )
    for (path, outcome), n in outcomes.items():
        LINES.labels(flavor.kind.value, path, outcome).inc(n)


def _outcome(d: Decision[Any]) -> str:
    """The status, or for a refused line its reason."""
    return d.reason.value if d.status is Status.REJECTED and d.reason else d.status.value


def _delta(t: Tally, s: Source, state: str) -> repo.UploadDelta:
    return repo.UploadDelta(
        s.upload_id,
        s.kind.value,
        s.ingestion_path,
        s.submitted_by,
        t.lines,
        t.accepted,
        t.duplicates,
        t.held,
        dict(t.rejected),
        state,
    )
