"""Event values for the decisions: SellThroughReported/Rejected, SellInRecorded, and the
dead-letter record of a refused shipment (which has no event type of its own)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from channelstream_common.events import current_trace_id, derived_id
from channelstream_common.outbox import pack_headers

from sellthrough.domain.model import Reason, SaleLine, ShipmentLine
from sellthrough.service_layer.submissions import Submitted

PRODUCER = "sellthrough"
MAX_RAW_LINE = 16 * 1024  # characters of the raw line carried on an event


@dataclass(frozen=True, slots=True)
class Stamp:
    """What every event of one batch shares: when it was recorded, the active trace."""

    now: datetime
    trace_id: str | None

    @classmethod
    def at(cls, now: datetime) -> Stamp:
        return cls(now, current_trace_id())


def _metadata(item: Submitted, event_id: str, occurred_at: datetime, stamp: Stamp) -> Any:
    """new_metadata's envelope, built without its per-event clock and trace look-ups."""
    src = item.source
    return {
        "event_id": event_id,
        "occurred_at": occurred_at,
        "recorded_at": stamp.now,
        "producer": PRODUCER,
        "correlation_id": src.upload_id,
        "causation_id": src.causation_id,
        "trace_id": stamp.trace_id,
    }


def raw(item: Submitted) -> str:
    text = item.raw_line
    return text if len(text) <= MAX_RAW_LINE else text[:MAX_RAW_LINE] + "…[truncated]"


def _midnight(day: date) -> datetime:
    found = _MIDNIGHTS.get(day)
    if found is None:
        found = datetime.combine(day, time(0), UTC)
        if len(_MIDNIGHTS) < 20_000:
            _MIDNIGHTS[day] = found
    return found


_MIDNIGHTS: dict[date, datetime] = {}


def sale_reported(
    item: Submitted, line: SaleLine, digest: str, product_line: str | None, stamp: Stamp
) -> dict[str, Any]:
    event_id = derived_id("SellThroughReported", line.report_id, line.line_no)
    return {
        "metadata": _metadata(item, event_id, _midnight(line.sold_on), stamp),
        "report_id": line.report_id,
        "line_no": line.line_no,
        "distributor_id": line.distributor_id,
        "reseller_id": line.reseller_id,
        "sku": line.sku,
        "product_line": product_line,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "currency": line.currency,
        "sold_on": line.sold_on,
        "end_customer_name": line.end_customer_name,
        "end_customer_country": line.end_customer_country,
        "deal_id": line.deal_id,
        "upload_id": item.source.upload_id,
        "ingestion_path": item.source.ingestion_path,
        "submitted_by": item.source.submitted_by,
        "raw_line": raw(item),
        "line_hash": digest,
        "end_customer_domain": None,  # v2; the report formats have no such column
    }


def sale_rejected(
    item: Submitted,
    ref: tuple[str | None, int | None, str | None],
    reason: Reason,
    detail: str,
    stamp: Stamp,
) -> dict[str, Any]:
    report_id, line_no, distributor_id = ref
    return {
        "metadata": _metadata(
            item, derived_id("SellThroughRejected", item.origin), stamp.now, stamp
        ),
        "report_id": report_id,
        "line_no": line_no,
        "distributor_id": distributor_id,
        "reason": reason.value,
        "detail": detail,
        "raw_line": raw(item),
        "upload_id": item.source.upload_id,
        "ingestion_path": item.source.ingestion_path,
    }


def shipment_recorded(item: Submitted, line: ShipmentLine, stamp: Stamp) -> dict[str, Any]:
    event_id = derived_id("SellInRecorded", line.shipment_id)
    return {
        "metadata": _metadata(item, event_id, _midnight(line.shipped_on), stamp),
        "shipment_id": line.shipment_id,
        "distributor_id": line.distributor_id,
        "sku": line.sku,
        "quantity": line.quantity,
        "unit_cost": line.unit_cost,
        "currency": line.currency,
        "shipped_on": line.shipped_on,
        "upload_id": item.source.upload_id,
        "ingestion_path": item.source.ingestion_path,
    }


def shipment_dead_letter(
    item: Submitted, shipment_id: str | None, reason: Reason, detail: str, stamp: Stamp
) -> dict[str, Any]:
    """An outbox row for the dead-letter topic: the raw line, the reason in headers."""
    src = item.source
    headers = [
        ("dlq_reason", f"{reason.value}: {detail}"[:2000]),
        ("dlq_source", f"shipment {item.origin}"),
        ("ce_type", "io.channelstream.SellInShipmentRejected"),
        ("ce_time", stamp.now.isoformat()),
        ("upload_id", src.upload_id),
        ("ingestion_path", src.ingestion_path),
        ("content-type", "text/plain; charset=utf-8"),
    ]
    if src.causation_id:
        headers.append(("causation_id", src.causation_id))
    return {
        "key": shipment_id.encode() if shipment_id else None,
        "value": raw(item).encode(),
        "headers": pack_headers(headers),
        "event_id": derived_id("SellInShipmentRejected", item.origin),
    }
