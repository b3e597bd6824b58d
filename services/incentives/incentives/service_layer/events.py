"""The RebateAccrued event announcing a posting."""

from __future__ import annotations

from typing import Any

from channelstream_common.events import new_metadata

from incentives.service_layer.facts import Posting

PRODUCER = "incentives"


def rebate_accrued(posting: Posting) -> dict[str, Any]:
    """Deterministic: ids, times and trace come from the accrual and its trigger, never the clock,
    so replaying the same events yields byte-identical records."""
    a, cause = posting.accrual, posting.trigger
    metadata = new_metadata(
        PRODUCER,
        causation={"event_id": cause.event_id, "correlation_id": cause.correlation_id},
        event_id=a.accrual_id,
        occurred_at=cause.recorded_at,
        recorded_at=cause.recorded_at,
    )
    metadata["trace_id"] = cause.trace_id
    return {
        "metadata": metadata,
        "accrual_id": a.accrual_id,
        "partner_id": a.partner_id,
        "program_id": a.program_id,
        "program_version": a.program_version,
        "period": a.period,
        "reason": a.reason.value,
        "basis_amount": a.basis_amount,
        "rate": a.rate,
        "amount": a.amount,
        "source_event_id": cause.event_id,
        "source_topic": cause.topic,
        "deal_id": a.deal_id,
        "sold_on": a.sold_on,
        "line_event_id": a.line_event_id,
        "currency": a.currency,
    }
