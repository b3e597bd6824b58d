"""Micro-benchmark of Avro encoding and decoding: fastavro (what AvroSerde used) against the
codecs `avro_codegen` generates, on SellThroughReported and RebateAccrued records, in one process.

    uv run python -m bench.codec                     # 2 000 records, 15 rounds
    uv run python -m bench.codec --records 5000 --rounds 31

Two batches per event: "batch", records as the services build them (a batch shares its
recorded_at, occurred_at is the midnight of the sale, prices come from a catalogue: what the
generated reader's memo of timestamps, dates and decimals sees in production) and "distinct",
every timestamp, date and amount different (no memo hits). The machine may be noisy: each round
times both codecs on the same batch back to back, in alternating order, with freshly generated
codecs (empty memos), and the table shows median records/s and the median of the per-round
ratios (min-max in brackets). Needs no services.
"""

from __future__ import annotations

import argparse
import gc
import io
import random
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import fastavro
from channelstream_common import schemas
from channelstream_common.avro_codegen import compile_reader, compile_writer

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def _metadata(rnd: random.Random, occurred: datetime, recorded: datetime) -> dict[str, Any]:
    return {
        "event_id": str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
        "occurred_at": occurred,
        "recorded_at": recorded,
        "producer": "sellthrough",
        "correlation_id": str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
        "causation_id": None,
        "trace_id": f"{rnd.getrandbits(128):032x}",
    }


def sell_through(n: int, rnd: random.Random, distinct: bool) -> dict[str, Any]:
    """A SellThroughReported value as sellthrough's messages.sale_reported builds one."""
    if distinct:
        recorded = T0 + timedelta(milliseconds=rnd.randrange(10**10))
        sold_on = date(2020, 1, 1) + timedelta(days=rnd.randrange(3000))
        occurred = T0 - timedelta(milliseconds=rnd.randrange(10**10))
        price = Decimal(rnd.randrange(1, 10**8)).scaleb(-4)
    else:
        recorded = T0 + timedelta(seconds=n // 500)  # one Stamp per batch of 500 lines
        sold_on = date(2026, 10, 1) + timedelta(days=n % 30)
        occurred = datetime.combine(sold_on, datetime.min.time(), UTC)
        price = Decimal(1999 + 1000 * (n % 40)).scaleb(-2).quantize(Decimal("0.0001"))
    dist, res, sku = f"D-{n % 7:02d}", f"R-{n % 400:04d}", f"SKU-{n % 250:05d}"
    qty = rnd.choice([1, 2, 5, 12, 40, 100, -3])
    raw_line = (
        f"RPT-{n // 1000},{n},{dist},{res},{sku},{qty},{price},EUR,{sold_on},Müller GmbH,DE,,"
    )
    return {
        "metadata": _metadata(rnd, occurred, recorded),
        "report_id": f"RPT-{n // 1000:06d}",
        "line_no": n,
        "distributor_id": dist,
        "reseller_id": res,
        "sku": sku,
        "product_line": rnd.choice(["networking", "storage", "compute", None]),
        "quantity": qty,
        "unit_price": price,
        "currency": "EUR",
        "sold_on": sold_on,
        "end_customer_name": rnd.choice(["Müller GmbH", "ACME Corp", None]),
        "end_customer_country": rnd.choice(["DE", "FR", None]),
        "deal_id": rnd.choice([None, None, f"DEAL-{n % 90:04d}"]),
        "upload_id": str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
        "ingestion_path": rnd.choice(["HTTP", "CLI", "KAFKA"]),
        "submitted_by": "alice@distributor.example",
        "raw_line": raw_line,
        "line_hash": f"{rnd.getrandbits(256):064x}",
        "end_customer_domain": rnd.choice(["mueller.de", None]),
    }


def rebate(n: int, rnd: random.Random, distinct: bool) -> dict[str, Any]:
    """A RebateAccrued value as incentives' rebate_accrued builds one."""
    if distinct:
        recorded = T0 + timedelta(milliseconds=rnd.randrange(10**10))
        sold_on = date(2020, 1, 1) + timedelta(days=rnd.randrange(3000))
        basis = Decimal(rnd.randrange(1, 10**9)).scaleb(-4)
        rate = Decimal(rnd.randrange(1, 10**5)).scaleb(-6)
    else:
        recorded = T0 + timedelta(seconds=n // 500)
        sold_on = date(2026, 10, 1) + timedelta(days=n % 30)
        basis = Decimal(1999 + 1000 * (n % 40)).scaleb(-2).quantize(Decimal("0.0001"))
        rate = Decimal(rnd.choice(["0.020000", "0.035000", "0.050000"]))
    amount = (basis * rate).quantize(Decimal("0.01"))
    metadata = _metadata(rnd, recorded, recorded)
    metadata["producer"] = "incentives"
    metadata["causation_id"] = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
    return {
        "metadata": metadata,
        "accrual_id": str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
        "partner_id": f"R-{n % 400:04d}",
        "program_id": "channel-rebates",
        "program_version": 3,
        "period": "2026-Q4",
        "reason": rnd.choice(["BASE", "BASE", "TIER_TRUE_UP", "DEAL_REG_BONUS"]),
        "basis_amount": basis,
        "rate": rate,
        "amount": amount,
        "source_event_id": str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
        "source_topic": "sellthrough.sell-through-reported",
        "deal_id": rnd.choice([None, f"DEAL-{n % 90:04d}"]),
        "sold_on": sold_on,
        "line_event_id": str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
        "currency": "EUR",
    }


EVENTS: dict[str, Callable[[int, random.Random, bool], dict[str, Any]]] = {
    "SellThroughReported": sell_through,
    "RebateAccrued": rebate,
}


@dataclass
class Row:
    event: str
    data: str
    op: str
    fastavro: list[float]  # records/s, one per round
    generated: list[float]

    @property
    def ratios(self) -> list[float]:
        return [g / f for f, g in zip(self.fastavro, self.generated, strict=True)]


def _rate(run: Callable[[], object], n: int) -> float:
    gc.collect()
    start = time.perf_counter()
    run()
    return n / (time.perf_counter() - start)


def measure(event: str, distinct: bool, records: int, rounds: int) -> list[Row]:
    schema = schemas.latest(event)
    parsed = fastavro.parse_schema(schema)
    rnd = random.Random(f"{event}-{distinct}")
    values = [EVENTS[event](n, rnd, distinct) for n in range(records)]

    def fa_encode() -> list[bytes]:
        out = []
        for value in values:
            buf = io.BytesIO()
            fastavro.schemaless_writer(buf, parsed, value)
            out.append(buf.getvalue())
        return out

    payloads = fa_encode()

    def fa_decode() -> None:
        for payload in payloads:
            fastavro.schemaless_reader(io.BytesIO(payload), parsed, None)

    data = "distinct" if distinct else "batch"
    decode = Row(event, data, "decode", [], [])
    encode = Row(event, data, "encode", [], [])
    read, write = compile_reader(schema), compile_writer(schema)
    assert read is not None and write is not None
    # the same bytes and values, or the comparison means nothing
    assert [write(value) for value in values] == payloads
    assert [read(p) for p in payloads] == [
        fastavro.schemaless_reader(io.BytesIO(p), parsed, None) for p in payloads
    ]
    for r in range(rounds):
        read, write = compile_reader(schema), compile_writer(schema)  # fresh: empty memos
        assert read is not None and write is not None

        def cg_decode(read: Callable[[bytes], Any] = read) -> None:
            for payload in payloads:
                read(payload)

        def cg_encode(write: Callable[[Any], bytes] = write) -> list[bytes]:
            return [write(value) for value in values]

        pairs = [(decode, fa_decode, cg_decode), (encode, fa_encode, cg_encode)]
        for row, fa, cg in pairs:
            if r % 2:
                row.generated.append(_rate(cg, records))
                row.fastavro.append(_rate(fa, records))
            else:
                row.fastavro.append(_rate(fa, records))
                row.generated.append(_rate(cg, records))
    return [decode, encode]


def main(args: argparse.Namespace) -> None:
    rows = [
        row
        for event in EVENTS
        for distinct in (False, True)
        for row in measure(event, distinct, args.records, args.rounds)
    ]
    print(
        f"{args.records} records x {args.rounds} rounds, medians "
        "(speed-up: median of the per-round ratios, [min-max])"
    )
    header = f"{'event':<20} {'data':<9} {'op':<7} {'fastavro rec/s':>15} {'generated rec/s':>16}"
    print(f"{header}  speed-up")
    for row in rows:
        ratios = row.ratios
        print(
            f"{row.event:<20} {row.data:<9} {row.op:<7} "
            f"{statistics.median(row.fastavro):>15,.0f} {statistics.median(row.generated):>16,.0f}"
            f"  {statistics.median(ratios):.2f}x [{min(ratios):.2f}-{max(ratios):.2f}]"
        )


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--records", type=int, default=2000, help="records per batch (default 2 000)")
    p.add_argument("--rounds", type=int, default=15, help="timed rounds (default 15)")
    main(p.parse_args())
