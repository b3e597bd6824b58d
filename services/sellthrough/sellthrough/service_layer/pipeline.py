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
from sellthrough.domain.validation import resubmission
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
        self, conn: AsyncConnection, flavor: Flavor, items: Sequence[Submitted]
    ) -> dict[str, Tally]:
        """Decide newly submitted lines; returns the tally per upload."""
        await repo.lock_for_intake(conn)
        return await self._settle(conn, flavor, items, fresh=True, expired=False)

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
    ) -> dict[str, Tally]:
        parsed = [_parse(flavor, i) for i in items]
        lines = [p for p in parsed if not isinstance(p, Rejection)]
        accepted = await repo.accepted_hashes(conn, flavor.kind, {p.key for p in lines})
        await self.partners.look_up(conn, _partner_ids(flavor, lines))
        rules, known = self.rules, self.partners.known
        decisions = decide(
            parsed,
            [i.source.received_on for i in items],
            accepted,
            lambda line, day: flavor.check(line, rules, known, day),
            flavor.hash_of,
            expired=expired,
        )
        decisions = await self._record(conn, flavor, items, decisions)
        await self._stage(conn, flavor, items, decisions)
        tallies = _tally(items, decisions, fresh)
        await repo.bump_uploads(conn, [_delta(t, s) for t, s in tallies.values()])
        _count(flavor, items, decisions)
        return {upload_id: t for upload_id, (t, _) in tallies.items()}

    async def _record(
        self, conn: AsyncConnection, flavor: Flavor, items: Sequence[Submitted], decided: Outcome
    ) -> Outcome:
        """Write each line's status; an accepted decision that lost a race against another
        submission of the same line becomes a duplicate or a conflict."""
        rows: dict[Hashable, repo.StatusRow] = {}
        for item, d in zip(items, decided, strict=True):
            if d.status is Status.DUPLICATE:
                continue
            key = flavor.status_key(item, d)
            if key is None:
                continue
            prior = rows.get(key)
            if prior is None or prior.status != Status.ACCEPTED.value:
                reason = d.reason.value if d.reason else None
                rows[key] = repo.StatusRow(
                    key, d.status.value, reason, d.line_hash, item.source.upload_id
                )
        written = await repo.record_status(conn, flavor.kind, list(rows.values()))
        lost = [
            i
            for i, d in enumerate(decided)
            if d.status is Status.ACCEPTED and d.line is not None and d.line.key not in written
        ]
        if not lost:
            return decided
        lost_keys = {line.key for i in lost if (line := decided[i].line) is not None}
        winners = await repo.accepted_hashes(conn, flavor.kind, lost_keys)
        out = list(decided)
        for i in lost:
            d = decided[i]
            assert d.line is not None and d.line_hash is not None
            conflict = resubmission(winners.get(d.line.key, ""), d.line_hash)
            out[i] = (
                Decision(Status.DUPLICATE, d.line, d.line_hash)
                if conflict is None
                else Decision(
                    Status.REJECTED, d.line, d.line_hash, conflict.reason, conflict.detail
                )
            )
        return out

    async def _stage(
        self, conn: AsyncConnection, flavor: Flavor, items: Sequence[Submitted], decided: Outcome
    ) -> None:
        now = self.clock()
        stamp = Stamp.at(now)
        events: list[Any] = []
        dead: list[dict[str, Any]] = []
        holds: list[dict[str, Any]] = []
        for item, d in zip(items, decided, strict=True):
            if d.status is Status.HELD:
                holds.append(_hold_row(flavor, item, d, now))
                continue
            staged, dead_letters = flavor.stage(item, d, self.rules, stamp)
            events += staged
            dead += dead_letters
        await repo.insert_holds(conn, holds)
        await self.outbox.add_bulk(conn, events)
        await repo.stage_raw(conn, self.dead_letter_topic, dead)


def _partner_ids(flavor: Flavor, lines: Sequence[Line]) -> set[str]:
    ids: set[str] = set()
    for line in lines:
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


def _delta(t: Tally, s: Source) -> repo.UploadDelta:
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
    )
