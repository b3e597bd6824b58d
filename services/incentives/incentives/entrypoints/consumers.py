"""The accrual projection: PartnerEnrolled, DealRegistered and SellThroughReported records in,
ledger rows and staged RebateAccrued events out, in the projection's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from channelstream_common.events import Envelope
from channelstream_common.outbox import Outbox
from channelstream_common.projection import Handler
from channelstream_common.topics import (
    DEAL_REGISTERED,
    PARTNER_ENROLLED,
    SELL_THROUGH_REPORTED,
    Topic,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from incentives.adapters.repository import SqlRepository
from incentives.domain.model import Deal, Line, Partner
from incentives.domain.programs import Program
from incentives.service_layer.accrue import accrue
from incentives.service_layer.facts import Batch, DealFact, LineFact, PartnerFact, Trigger

TOPICS: tuple[Topic, ...] = (PARTNER_ENROLLED, DEAL_REGISTERED, SELL_THROUGH_REPORTED)


def trigger(topic: Topic, value: dict[str, Any]) -> Trigger:
    meta = value["metadata"]
    return Trigger(
        event_id=meta["event_id"],
        correlation_id=meta["correlation_id"],
        recorded_at=meta["recorded_at"],
        trace_id=meta.get("trace_id"),
        topic=topic.name,
    )


def to_batch(envelopes: Sequence[Envelope], prefix: str) -> Batch:
    batch = Batch([], [], [])
    partners, deals, lines = (
        t.full_name(prefix) for t in (PARTNER_ENROLLED, DEAL_REGISTERED, SELL_THROUGH_REPORTED)
    )
    for env in envelopes:
        v = env.value
        if env.topic == lines:
            line = Line(
                event_id=v["metadata"]["event_id"],
                distributor_id=v["distributor_id"],
                reseller_id=v["reseller_id"],
                report_id=v["report_id"],
                line_no=v["line_no"],
                product_line=v.get("product_line"),
                quantity=v["quantity"],
                unit_price=v["unit_price"],
                currency=v["currency"],
                sold_on=v["sold_on"],
                deal_id=v.get("deal_id") or None,
            )
            position = (env.partition, env.offset)
            batch.lines.append(LineFact(line, trigger(SELL_THROUGH_REPORTED, v), position))
        elif env.topic == partners:
            partner = Partner(v["partner_id"], v["partner_type"], v["tier"])
            batch.partners.append(PartnerFact(partner, trigger(PARTNER_ENROLLED, v)))
        elif env.topic == deals:
            deal = Deal(
                v["deal_id"], v["partner_id"], v["registered_on"], v["protection_expires_on"]
            )
            batch.deals.append(DealFact(deal, trigger(DEAL_REGISTERED, v)))
        else:
            raise ValueError(f"incentives does not consume {env.topic}")
    return batch


def accrual_handler(programs: tuple[Program, ...], outbox: Outbox, prefix: str) -> Handler:
    async def handle(conn: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
        await accrue(to_batch(envelopes, prefix), programs, SqlRepository(conn, outbox))

    return handle
