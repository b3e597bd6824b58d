"""Every SQL statement of the write side; bulk (one statement per batch), never per line."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from channelstream_common.outbox import Outbox
from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from sellthrough.adapters import bulk
from sellthrough.domain.model import Kind, Partner

# Intake holds it shared, partner enrolment and the hold sweeper exclusively: a line held for an
# unknown partner is either seen by that partner's release or decided after the partner is known.
PARTNERS_LOCK = 0x5E11_7470


async def lock_for_intake(conn: AsyncConnection) -> None:
    await conn.execute(text("select pg_advisory_xact_lock_shared(:k)"), {"k": PARTNERS_LOCK})


async def lock_partners(conn: AsyncConnection) -> None:
    await conn.execute(text("select pg_advisory_xact_lock(:k)"), {"k": PARTNERS_LOCK})


async def load_partners(conn: AsyncConnection, ids: Sequence[str] | None = None) -> list[Partner]:
    """All partners, or those of `ids` that are known."""
    query = "select partner_id, partner_type, enrolled_on from partners"
    if ids is None:
        rows = await conn.execute(text(query))
    else:
        rows = await conn.execute(text(query + " where partner_id = any(:ids)"), {"ids": ids})
    return [Partner(r.partner_id, r.partner_type, r.enrolled_on) for r in rows]


async def insert_partners(
    conn: AsyncConnection, partners: Sequence[tuple[Partner, str]]
) -> list[Partner]:
    """The first enrolment of a partner id wins; returns the partners new to this table."""
    if not partners:
        return []
    rows = await conn.execute(
        text(
            "insert into partners (partner_id, partner_type, enrolled_on, event_id)"
            " select * from unnest(cast(:ids as text[]), cast(:types as text[]),"
            " cast(:days as date[]), cast(:events as text[]))"
            " on conflict (partner_id) do nothing"
            " returning partner_id, partner_type, enrolled_on"
        ),
        {
            "ids": [p.partner_id for p, _ in partners],
            "types": [p.partner_type for p, _ in partners],
            "days": [p.enrolled_on for p, _ in partners],
            "events": [e for _, e in partners],
        },
    )
    return [Partner(r.partner_id, r.partner_type, r.enrolled_on) for r in rows]


async def accepted_hashes(
    conn: AsyncConnection, kind: Kind, keys: Iterable[Hashable]
) -> dict[Hashable, str]:
    """The content hash of each of these lines that is accepted."""
    keys = list(keys)
    if not keys:
        return {}
    if kind is Kind.SALE:
        pairs: list[tuple[str, int]] = keys  # type: ignore[assignment]
        rows = await bulk.fetch(
            conn,
            "select r.report_id, r.line_no, r.line_hash from report_lines r"
            " join unnest(cast(%s as text[]), cast(%s as bigint[])) k(report_id, line_no)"
            " using (report_id, line_no) where r.status = 'accepted'",
            (bulk.texts(k[0] for k in pairs), bulk.ints(k[1] for k in pairs)),
        )
        return {(r[0], r[1]): r[2] for r in rows}
    rows = await bulk.fetch(
        conn,
        "select shipment_id, line_hash from shipment_lines"
        " where shipment_id = any(cast(%s as text[])) and status = 'accepted'",
        (bulk.texts(keys),),  # type: ignore[arg-type]
    )
    return {r[0]: r[1] for r in rows}


# (status, reason, line hash, upload id) of a line, by its key
LineStatus = tuple[str, str | None, str | None, str]

_UPSERT = (
    " on conflict ({key}) do update set status = excluded.status, reason = excluded.reason,"
    " line_hash = excluded.line_hash, upload_id = excluded.upload_id"
    " where {table}.status <> 'accepted' returning {key})"
    " select {key} from v except all select {key} from w"
)
_RECORD_SALES = (
    "with v (report_id, line_no, status, reason, line_hash, upload_id) as (select * from unnest("
    "cast(%s as text[]), cast(%s as bigint[]), cast(%s as text[]), cast(%s as text[]),"
    " cast(%s as text[]), cast(%s as text[]))),"
    " w as (insert into report_lines (report_id, line_no, status, reason, line_hash, upload_id)"
    " select report_id, line_no, status, nullif(reason, ''), nullif(line_hash, ''), upload_id"
    " from v" + _UPSERT.format(key="report_id, line_no", table="report_lines")
)
_RECORD_SHIPMENTS = (
    "with v (shipment_id, status, reason, line_hash, upload_id) as (select * from unnest("
    "cast(%s as text[]), cast(%s as text[]), cast(%s as text[]), cast(%s as text[]),"
    " cast(%s as text[]))),"
    " w as (insert into shipment_lines (shipment_id, status, reason, line_hash, upload_id)"
    " select shipment_id, status, nullif(reason, ''), nullif(line_hash, ''), upload_id"
    " from v" + _UPSERT.format(key="shipment_id", table="shipment_lines")
)


async def record_status(
    conn: AsyncConnection, kind: Kind, rows: dict[Hashable, LineStatus]
) -> set[Hashable]:
    """Upsert each line's latest status in one statement; an accepted line is never
    overwritten. Returns the keys NOT written: lines already accepted, before this batch or by
    a concurrent submission that won the race (usually none, and then nothing comes back)."""
    if not rows:
        return set()
    keys = sorted(rows)  # type: ignore[type-var]  # one lock order for all writers: no deadlock
    values = [rows[k] for k in keys]
    columns = (
        bulk.texts([v[0] for v in values]),
        bulk.texts([v[1] or "" for v in values]),
        bulk.texts([v[2] or "" for v in values]),
        bulk.texts([v[3] for v in values]),
    )
    if kind is Kind.SALE:
        pairs: list[tuple[str, int]] = keys  # type: ignore[assignment]
        missing = await bulk.fetch(
            conn,
            _RECORD_SALES,
            (bulk.texts([k[0] for k in pairs]), bulk.ints([k[1] for k in pairs]), *columns),
        )
        return {(r[0], r[1]) for r in missing}
    missing = await bulk.fetch(conn, _RECORD_SHIPMENTS, (bulk.texts(keys), *columns))  # type: ignore[arg-type]
    return {r[0] for r in missing}


HOLD_COLUMNS = (
    "origin",
    "kind",
    "distributor_id",
    "reseller_id",
    "fields",
    "raw_line",
    "upload_id",
    "ingestion_path",
    "submitted_by",
    "causation_id",
    "received_on",
    "held_at",
)
_HOLD_TYPES = (
    "text[]",
    "text[]",
    "text[]",
    "text[]",
    "text[]",
    "text[]",
    "text[]",
    "text[]",
    "text[]",
    "text[]",
    "date[]",
    "timestamptz[]",
)


async def insert_holds(conn: AsyncConnection, holds: Sequence[dict[str, Any]]) -> None:
    """`holds`: dicts with HOLD_COLUMNS; `fields` as a JSON text."""
    if not holds:
        return
    arrays = ", ".join(f"cast(:{c} as {t})" for c, t in zip(HOLD_COLUMNS, _HOLD_TYPES, strict=True))
    columns = ", ".join(HOLD_COLUMNS)
    select = ", ".join(f"{c}::jsonb" if c == "fields" else c for c in HOLD_COLUMNS)
    await conn.execute(
        text(
            f"insert into holds ({columns}) select {select}"
            f" from unnest({arrays}) u({columns})"
            " on conflict (origin) do nothing"
        ),
        {c: [h[c] for h in holds] for c in HOLD_COLUMNS},
    )


async def take_holds_for(conn: AsyncConnection, partner_ids: Sequence[str]) -> list[Row[Any]]:
    """Remove and return the holds waiting for any of these partners."""
    if not partner_ids:
        return []
    rows = await conn.execute(
        text(
            "delete from holds where distributor_id = any(cast(:ids as text[]))"
            " or reseller_id = any(cast(:ids as text[])) returning *"
        ),
        {"ids": list(partner_ids)},
    )
    return sorted(rows, key=lambda r: (r.held_at, r.origin))


async def take_expired_holds(conn: AsyncConnection, cutoff: datetime, limit: int) -> list[Row[Any]]:
    rows = await conn.execute(
        text(
            "delete from holds where origin in (select origin from holds"
            " where held_at <= :cutoff order by held_at, origin limit :n"
            " for update skip locked) returning *"
        ),
        {"cutoff": cutoff, "n": limit},
    )
    return sorted(rows, key=lambda r: (r.held_at, r.origin))


async def stage_raw(
    outbox: Outbox, conn: AsyncConnection, topic: str, rows: Sequence[dict[str, Any]]
) -> None:
    """Outbox rows whose value is raw bytes (dead letters); the relay publishes them as is."""
    await outbox.add_rows(
        conn, [(topic, r["key"], r["value"], r["headers"], r["event_id"]) for r in rows]
    )


# ---------------------------------------------------------------------------- uploads

RECEIVING, COMPLETE, FAILED, STREAMING = "receiving", "complete", "failed", "streaming"


async def set_upload_state(
    conn: AsyncConnection, upload_id: str, kind: Kind, path: str, submitted_by: str, state: str
) -> None:
    """An upload's state, created with no lines if this is its first sight."""
    await conn.execute(
        text(
            "insert into uploads (upload_id, kind, ingestion_path, submitted_by, state)"
            " values (:u, :k, :p, :s, :state)"
            " on conflict (upload_id) do update set state = excluded.state"
        ),
        {"u": upload_id, "k": kind.value, "p": path, "s": submitted_by, "state": state},
    )


async def mark_upload(conn: AsyncConnection, upload_id: str, state: str) -> None:
    await conn.execute(
        text("update uploads set state = :s where upload_id = :u"), {"u": upload_id, "s": state}
    )


@dataclass(frozen=True, slots=True)
class UploadDelta:
    upload_id: str
    kind: str
    ingestion_path: str
    submitted_by: str
    lines: int
    accepted: int
    duplicates: int
    held: int
    rejected: dict[str, int]
    # an upload's state once these lines are counted; STREAMING (Kafka intake, or lines
    # decided again after a hold) leaves the state of a known upload as it is
    state: str = STREAMING


_BUMP = (
    "with u as (insert into uploads (upload_id, kind, ingestion_path, submitted_by, state, lines,"
    " accepted, duplicates, held) select * from unnest(cast(%s as text[]), cast(%s as text[]),"
    " cast(%s as text[]), cast(%s as text[]), cast(%s as text[]), cast(%s as bigint[]),"
    " cast(%s as bigint[]), cast(%s as bigint[]), cast(%s as bigint[]))"
    " on conflict (upload_id) do update set lines = uploads.lines + excluded.lines,"
    " accepted = uploads.accepted + excluded.accepted,"
    " duplicates = uploads.duplicates + excluded.duplicates,"
    " held = uploads.held + excluded.held,"
    f" state = case excluded.state when '{STREAMING}' then uploads.state else excluded.state end)"
    " insert into upload_rejections (upload_id, reason, n) select * from unnest("
    "cast(%s as text[]), cast(%s as text[]), cast(%s as bigint[]))"
    " on conflict (upload_id, reason) do update set n = upload_rejections.n + excluded.n"
)


async def bump_uploads(conn: AsyncConnection, deltas: Sequence[UploadDelta]) -> None:
    """Add to the counters of each upload (created on first sight), and to its refusals by
    reason: one statement."""
    if not deltas:
        return
    deltas = sorted(deltas, key=lambda d: d.upload_id)
    rejections = [(d.upload_id, r, n) for d in deltas for r, n in sorted(d.rejected.items()) if n]
    await bulk.fetch(
        conn,
        _BUMP,
        (
            bulk.texts([d.upload_id for d in deltas]),
            bulk.texts([d.kind for d in deltas]),
            bulk.texts([d.ingestion_path for d in deltas]),
            bulk.texts([d.submitted_by for d in deltas]),
            bulk.texts([d.state for d in deltas]),
            bulk.ints([d.lines for d in deltas]),
            bulk.ints([d.accepted for d in deltas]),
            bulk.ints([d.duplicates for d in deltas]),
            bulk.ints([d.held for d in deltas]),
            bulk.texts([u for u, _, _ in rejections]),
            bulk.texts([r for _, r, _ in rejections]),
            bulk.ints([n for _, _, n in rejections]),
        ),
    )


async def upload_status(conn: AsyncConnection, upload_id: str) -> dict[str, Any] | None:
    row = (
        await conn.execute(
            text(
                "select upload_id, kind, ingestion_path, submitted_by, state, lines, accepted,"
                " duplicates, held from uploads where upload_id = :u"
            ),
            {"u": upload_id},
        )
    ).first()
    if row is None:
        return None
    reasons = await conn.execute(
        text("select reason, n from upload_rejections where upload_id = :u order by reason"),
        {"u": upload_id},
    )
    return {**row._asdict(), "rejected": {r.reason: r.n for r in reasons if r.n}}


async def report_lines(conn: AsyncConnection, report_id: str) -> list[Row[Any]]:
    rows = await conn.execute(
        text(
            "select line_no, status, reason from report_lines where report_id = :r order by line_no"
        ),
        {"r": report_id},
    )
    return list(rows)


async def shipment_line(conn: AsyncConnection, shipment_id: str) -> Row[Any] | None:
    rows = await conn.execute(
        text(
            "select shipment_id, status, reason, upload_id from shipment_lines"
            " where shipment_id = :s"
        ),
        {"s": shipment_id},
    )
    return rows.first()


async def partner(conn: AsyncConnection, partner_id: str) -> Row[Any] | None:
    rows = await conn.execute(
        text("select partner_id, partner_type, enrolled_on from partners where partner_id = :p"),
        {"p": partner_id},
    )
    return rows.first()
