"""File uploads (HTTP and CLI): the body is read as a stream and decided a batch of lines at a
time, one transaction per batch (the upload's own row included), so memory holds two batches
whatever the file's size and a file of up to BATCH lines is one transaction.

Intake is bounded: at most `concurrency` batches are decided at once, each holding one pooled
connection, and an upload that cannot get its first turn soon (too many waiting already, or
none free within `wait` seconds) is refused as Overloaded before anything of it is recorded."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from channelstream_common.outbox import Outbox
from sqlalchemy.ext.asyncio import AsyncEngine

from sellthrough.adapters import repository as repo
from sellthrough.domain.model import Rejection
from sellthrough.domain.parsing import fields_from_json, fields_from_row, malformed
from sellthrough.service_layer.flavors import Flavor
from sellthrough.service_layer.pipeline import Pipeline
from sellthrough.service_layer.submissions import Source, Submitted, Tally

CSV, NDJSON = "csv", "ndjson"
BATCH = 5000
MAX_LINE = 64 * 1024  # bytes; a longer line is refused without being kept in memory


class BadUpload(ValueError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class Overloaded(RuntimeError):
    """Intake is saturated; nothing of the upload was recorded. Retry after `retry_after` s."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


@dataclass(frozen=True)
class IntakeLimits:
    # Batches decided at once, each in a transaction on a pooled connection. The pool (5 + 5
    # by default) also serves the four consumers, the relay, the sweeper and reads: uploads
    # must not take all of it.
    concurrency: int = 2
    queue: int = 64  # uploads admitted and waiting for their first turn; more are refused
    wait: float = 15.0  # seconds an upload may wait for its first turn before it is refused
    retry_after: int = 1  # seconds, suggested to a refused sender


class Intake:
    """Turns to decide a batch. An upload's first turn is bounded (queue and wait) so that
    overload is refused early and cheaply; the turns of an upload under way are not, so an
    admitted upload is never cut in half."""

    def __init__(self, limits: IntakeLimits | None = None) -> None:
        self.limits = limits = limits or IntakeLimits()
        self._slots = asyncio.Semaphore(limits.concurrency)
        self.waiting = 0  # admitted uploads that have not had their first turn yet

    def admit(self) -> Ticket:
        if self.waiting >= self.limits.queue:
            raise self._refusal(f"{self.waiting} uploads are waiting for their turn already")
        self.waiting += 1
        return Ticket(self)

    @contextlib.asynccontextmanager
    async def turn(self, ticket: Ticket) -> AsyncIterator[None]:
        if ticket.waiting:
            try:
                async with asyncio.timeout(self.limits.wait):  # wait_for may swallow a cancel
                    await self._slots.acquire()
            except TimeoutError:
                raise self._refusal(
                    f"no turn to decide lines within {self.limits.wait:g} s"
                ) from None
            finally:
                ticket.done()
        else:
            await self._slots.acquire()
        try:
            yield
        finally:
            self._slots.release()

    def _refusal(self, detail: str) -> Overloaded:
        return Overloaded(f"intake is saturated: {detail}", self.limits.retry_after)


class Ticket:
    """An admitted upload; waiting until its first turn (or until it ends without one)."""

    def __init__(self, intake: Intake) -> None:
        self.intake = intake
        self.waiting = True

    def done(self) -> None:
        if self.waiting:
            self.waiting = False
            self.intake.waiting -= 1


class LineSplitter:
    """Byte chunks in, complete lines out (without the newline). An over-long line comes out
    as None, having been skipped rather than buffered."""

    def __init__(self, limit: int = MAX_LINE) -> None:
        self.limit = limit
        self.carry = b""
        self.skipping = False

    def feed(self, chunk: bytes) -> list[bytes | None]:
        parts = chunk.split(b"\n")
        out: list[bytes | None] = []
        if self.skipping:
            if len(parts) == 1:
                return out
            parts.pop(0)
            out.append(None)
            self.skipping = False
        else:
            parts[0] = self.carry + parts[0]
        self.carry = parts.pop()
        out += parts
        if len(self.carry) > self.limit:
            self.carry = b""
            self.skipping = True
        return out

    def finish(self) -> list[bytes | None]:
        if self.skipping:
            return [None]
        return [self.carry] if self.carry else []


async def numbered_lines(
    chunks: AsyncIterator[bytes], size: int
) -> AsyncIterator[list[tuple[int, bytes | None]]]:
    """Batches of (1-based physical line number, line); at most `size` lines each."""
    splitter = LineSplitter()
    batch: list[tuple[int, bytes | None]] = []
    n = 0
    async for chunk in chunks:
        for line in splitter.feed(chunk):
            n += 1
            batch.append((n, line))
            if len(batch) >= size:
                yield batch
                batch = []
    for line in splitter.finish():
        n += 1
        batch.append((n, line))
    if batch:
        yield batch


def _decode(line: bytes | None, first: bool) -> str | None:
    if line is None:
        return None
    text = line.decode("utf-8")
    if first and text.startswith("\ufeff"):
        text = text[1:]
    return text.rstrip("\r")


def to_submitted(
    n: int, line: bytes | None, fmt: str, flavor: Flavor, source: Source
) -> Submitted | None:
    """One physical line as a submitted line; None for a blank line."""
    origin = f"{source.upload_id}:{n}"
    try:
        text = _decode(line, n == 1)
    except UnicodeDecodeError:
        raw = (line or b"")[:2000].decode("utf-8", "replace")
        return Submitted(None, malformed("the line is not valid UTF-8"), raw, origin, source)
    if text is None:
        problem = malformed(f"the line is longer than {MAX_LINE} bytes")
        return Submitted(None, problem, "", origin, source)
    if not text.strip():
        return None
    if fmt == CSV:
        try:
            row = text.split(",") if '"' not in text else next(csv.reader((text,)))
        except csv.Error as exc:
            return Submitted(None, malformed(f"unreadable CSV: {exc}"), text, origin, source)
        fields = fields_from_row(row, flavor.header)
    else:
        try:
            obj = json.loads(text, parse_float=str, parse_int=str)
        except (ValueError, RecursionError):
            return Submitted(None, malformed("the line is not valid JSON"), text, origin, source)
        fields = fields_from_json(obj, flavor.header)
    if isinstance(fields, Rejection):
        return Submitted(None, fields, text, origin, source)
    return Submitted(fields, None, text, origin, source)


@dataclass(frozen=True)
class UploadResult:
    upload_id: str
    tally: Tally


class Uploads:
    def __init__(
        self,
        engine: AsyncEngine,
        pipeline: Pipeline,
        outbox: Outbox,
        batch: int = BATCH,
        intake: Intake | None = None,
    ) -> None:
        self.engine = engine
        self.pipeline = pipeline
        self.outbox = outbox
        self.batch = batch
        self.intake = intake or Intake()

    async def ingest(
        self,
        flavor: Flavor,
        fmt: str,
        chunks: AsyncIterator[bytes],
        *,
        ingestion_path: str,
        submitted_by: str,
    ) -> UploadResult:
        """Decide every line of an uploaded file; raises BadUpload before deciding anything if
        the file cannot be read as `fmt` at all (a CSV without the exact header), Overloaded
        (also before) if intake is saturated."""
        ticket = self.intake.admit()
        try:
            return await self._ingest(ticket, flavor, fmt, chunks, ingestion_path, submitted_by)
        finally:
            ticket.done()

    async def _ingest(
        self,
        ticket: Ticket,
        flavor: Flavor,
        fmt: str,
        chunks: AsyncIterator[bytes],
        ingestion_path: str,
        submitted_by: str,
    ) -> UploadResult:
        upload_id = str(uuid.uuid4())
        source = Source(
            flavor.kind, upload_id, ingestion_path, submitted_by, None, self.pipeline.today()
        )
        batches = numbered_lines(chunks, self.batch)
        current = await anext(batches, None)
        if fmt == CSV:
            current = _without_header(current, flavor)
        elif current is None:
            current = []  # an empty file is an upload without lines, recorded all the same
        total = Tally()
        recorded = False  # the upload's row is committed (by its first batch)
        try:
            while current is not None:
                items = [
                    s for n, line in current if (s := to_submitted(n, line, fmt, flavor, source))
                ]
                current = await anext(batches, None)  # read ahead: is this the last batch?
                last = current is None
                if not items and not last:
                    continue  # blank lines only: nothing to record yet
                state = repo.COMPLETE if last else repo.RECEIVING
                async with self.intake.turn(ticket), self.engine.begin() as conn:
                    if items:
                        tallies = await self.pipeline.submit(
                            conn, flavor, items, upload_state=state
                        )
                    else:  # nothing more to decide: complete (and recorded, if it was not)
                        tallies = {}
                        await repo.set_upload_state(
                            conn, upload_id, flavor.kind, ingestion_path, submitted_by, state
                        )
                recorded = True
                self.outbox.kick()
                for t in tallies.values():
                    total.add(t)
        except BaseException:
            if recorded:
                with contextlib.suppress(Exception):
                    async with self.intake.turn(ticket), self.engine.begin() as conn:
                        await repo.mark_upload(conn, upload_id, repo.FAILED)
            raise
        return UploadResult(upload_id, total)


def _without_header(
    batch: list[tuple[int, bytes | None]] | None, flavor: Flavor
) -> list[tuple[int, bytes | None]]:
    expected = ",".join(flavor.header)
    if not batch:
        raise BadUpload("MISSING_HEADER", f"the file is empty; expected the header {expected}")
    try:
        header = _decode(batch[0][1], True)
    except UnicodeDecodeError:
        header = None
    if header is None or header.strip() != expected:
        seen = (header or "")[:200]
        raise BadUpload("BAD_HEADER", f"expected the header {expected!r}, found {seen!r}")
    return batch[1:]
