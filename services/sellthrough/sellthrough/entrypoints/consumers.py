"""Kafka handlers: partners (and releasing lines held for them), the inventory projection, and
the intake topics written by distributor integrations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from channelstream_common.events import Envelope
from channelstream_common.projection import Handler
from channelstream_common.topics import SELL_THROUGH_REPORTED
from sqlalchemy.ext.asyncio import AsyncConnection

from sellthrough.adapters import inventory as inv
from sellthrough.adapters import repository as repo
from sellthrough.domain.inventory import new_fact_sums
from sellthrough.domain.model import Partner
from sellthrough.service_layer.flavors import Flavor
from sellthrough.service_layer.pipeline import Pipeline
from sellthrough.service_layer.submissions import KAFKA, Source, Submitted

PARTNERS = "partners"
INVENTORY = "inventory"
INTAKE_SALES = "intake-report-lines"
INTAKE_SHIPMENTS = "intake-shipments"


def partners_handler(pipeline: Pipeline) -> Handler:
    async def apply(conn: AsyncConnection, events: Sequence[Envelope]) -> None:
        """The first enrolment of an id wins; lines held for new partners are decided again."""
        await repo.lock_partners(conn)
        first: dict[str, tuple[Partner, str]] = {}
        for env in events:
            v = env.value
            partner = Partner(v["partner_id"], v["partner_type"], v["enrolled_on"])
            first.setdefault(partner.partner_id, (partner, env.event_id))
        new = await repo.insert_partners(conn, [first[pid] for pid in sorted(first)])
        pipeline.partners.remember(new)
        await pipeline.release(conn, sorted(p.partner_id for p in new))
        if new:
            pipeline.outbox.kick()

    return apply


def inventory_handler(topic_prefix: str) -> Handler:
    reported = SELL_THROUGH_REPORTED.full_name(topic_prefix)

    async def apply(conn: AsyncConnection, events: Sequence[Envelope]) -> None:
        """Two statements a batch: the facts new to the tables come back from the first, are
        summed here, and the sums are added by the second."""
        sales: dict[tuple[str, int], dict[str, Any]] = {}
        shipments: dict[str, dict[str, Any]] = {}
        for env in events:
            v = env.value
            if env.topic == reported:
                sales.setdefault((v["report_id"], v["line_no"]), v)
            else:
                shipments.setdefault(v["shipment_id"], v)
        new_shipments, new_sales = await inv.record_facts(
            conn, [sales[k] for k in sorted(sales)], [shipments[k] for k in sorted(shipments)]
        )
        sums, latest = new_fact_sums(new_shipments, new_sales)
        await inv.add_to_positions(conn, sums, latest)

    return apply


def _text(value: Any) -> str | None:
    """Intake values are text but line_no, which is a long."""
    return value if value is None or isinstance(value, str) else str(value)


def submitted_from_event(env: Envelope, flavor: Flavor, source: Source) -> Submitted:
    fields = {name: _text(env.value.get(name)) for name in flavor.header}
    raw_line = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    origin = f"{env.topic}/{env.partition}@{env.offset}"
    return Submitted(fields, None, raw_line, origin, source)


def intake_handler(pipeline: Pipeline, flavor: Flavor) -> Handler:
    async def apply(conn: AsyncConnection, events: Sequence[Envelope]) -> None:
        """Raw lines an integration published: upload_id is the event's correlation id."""
        today = pipeline.today()
        items = []
        for env in events:
            meta = env.metadata
            source = Source(
                flavor.kind,
                meta["correlation_id"],
                KAFKA,
                env.value["submitted_by"],
                meta["event_id"],
                today,
            )
            items.append(submitted_from_event(env, flavor, source))
        await pipeline.submit(conn, flavor, items)
        pipeline.outbox.kick()

    return apply
