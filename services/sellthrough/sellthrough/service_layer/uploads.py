"""File uploads (HTTP and CLI): the body is read as a stream and decided a batch of lines at a
time, one transaction per batch, so memory holds one batch whatever the file's size."""

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
BATCH = 2000
# Batches of concurrent uploads decided at once. The pool (5 + 5 connections) also serves the
# four consumers, the relay, the sweeper and reads: uploads must not take all of it.
CONCURRENT_BATCHES = 2
MAX_LINE = 64 * 1024  # bytes; a longer line is refused without being kept in memory


class BadUpload(ValueError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


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
        self, engine: AsyncEngine, pipeline: Pipeline, outbox: Outbox, batch: int = BATCH
    ) -> None:
        self.engine = engine
        self.pipeline = pipeline
        self.outbox = outbox
        self.batch = batch
        self._deciding = asyncio.Semaphore(CONCURRENT_BATCHES)

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
        the file cannot be read as `fmt` at all (a CSV without the exact header)."""
        upload_id = str(uuid.uuid4())
        source = Source(
            flavor.kind, upload_id, ingestion_path, submitted_by, None, self.pipeline.today()
        )
        batches = numbered_lines(chunks, self.batch)
        pending = await anext(batches, None)
        if fmt == CSV:
            pending = _without_header(pending, flavor)
        async with self.engine.begin() as conn:
            await repo.open_upload(conn, upload_id, flavor.kind, ingestion_path, submitted_by)
        total = Tally()
        try:
            while pending is not None:
                items = [
                    s for n, line in pending if (s := to_submitted(n, line, fmt, flavor, source))
                ]
                pending = None
                if items:
                    async with self._deciding, self.engine.begin() as conn:
                        tallies = await self.pipeline.submit(conn, flavor, items)
                    self.outbox.kick()
                    for t in tallies.values():
                        total.add(t)
                pending = await anext(batches, None)
        except BaseException:
            with contextlib.suppress(Exception):
                async with self.engine.begin() as conn:
                    await repo.close_upload(conn, upload_id, "failed")
            raise
        async with self.engine.begin() as conn:
            await repo.close_upload(conn, upload_id, "complete")
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
