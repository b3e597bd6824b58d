"""One trace from an HTTP upload through sellthrough, incentives and analytics (issue 8)."""

from __future__ import annotations

import uuid
from datetime import date

import httpx
import pytest
from channelstream_common import testing
from channelstream_common.events import new_metadata
from channelstream_common.publisher import EventPublisher
from channelstream_common.serde import AvroSerde
from channelstream_common.settings import Settings
from channelstream_common.telemetry import setup_tracing
from channelstream_common.topics import PARTNER_ENROLLED
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

pytestmark = pytest.mark.integration
HEADER = (
    "report_id,line_no,distributor_id,reseller_id,sku,quantity,unit_price,currency,"
    "sold_on,end_customer_name,end_customer_country,deal_id"
)


async def enrol(publisher: EventPublisher, pid: str, kind: str, parent: str | None) -> None:
    await publisher.publish(
        PARTNER_ENROLLED,
        {
            "metadata": new_metadata("onboarding"),
            "partner_id": pid,
            "legal_name": f"{pid} Ltd",
            "partner_type": kind,
            "tier": "GOLD",
            "parent_distributor_id": parent,
            "territories": ["US"],
            "exclusive_territories": [],
            "enrolled_on": date(2025, 1, 2),
            "contact_email": "ops@example.com",
        },
    )


async def test_one_trace_spans_sellthrough_incentives_and_analytics_for_one_uploaded_line(
    endpoints, isolated_prefix, settings_for
):
    topic_prefix = isolated_prefix
    exporter = InMemorySpanExporter()
    provider = setup_tracing(Settings(service="channelstream-tests"))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    from analytics.bootstrap import bootstrap as analytics
    from incentives.bootstrap import bootstrap as incentives
    from sellthrough.bootstrap import bootstrap as sellthrough

    ports = {n: testing.free_port() for n in ("sellthrough", "incentives", "analytics")}

    def own(name: str) -> Settings:
        return settings_for(name, http_port=ports[name], topic_prefix=topic_prefix)

    running = [
        sellthrough(
            settings_for("sellthrough", http_port=ports["sellthrough"], topic_prefix=topic_prefix)
        ),
        incentives(
            settings_for("incentives", http_port=ports["incentives"], topic_prefix=topic_prefix)
        ),
        analytics(
            settings_for("analytics", http_port=ports["analytics"], topic_prefix=topic_prefix)
        ),
    ]
    for svc in running:
        await svc.start()
    publisher = EventPublisher(
        endpoints.kafka, AvroSerde(endpoints.registry, topic_prefix), "onboarding"
    )
    await publisher.start()
    tag = uuid.uuid4().hex[:6].upper()
    dist, reseller = f"TD-{tag}", f"TR-{tag}"
    trace_id = uuid.uuid4().hex
    try:
        await enrol(publisher, dist, "DISTRIBUTOR", None)
        await enrol(publisher, reseller, "VAR", dist)
        async with httpx.AsyncClient(timeout=30) as http:
            st = f"http://127.0.0.1:{ports['sellthrough']}"

            async def known() -> bool:
                codes = [
                    (await http.get(f"{st}/partners/{p}")).status_code for p in (dist, reseller)
                ]
                return codes == [200, 200]

            await testing.eventually(known, within=60)
            body = f"{HEADER}\nR-{tag},1,{dist},{reseller},FW-1100,2,1000.00,USD,2026-07-15,,,\n"
            answer = await http.post(
                f"{st}/reports",
                content=body,
                headers={
                    "content-type": "text/csv",
                    "x-submitted-by": "tracing-test",
                    "traceparent": f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01",
                },
            )
            assert answer.json()["accepted"] == 1, answer.text

            an = f"http://127.0.0.1:{ports['analytics']}"

            async def scored() -> bool:
                r = await http.get(f"{an}/scorecards/{dist}/2026-Q3")
                return r.status_code == 200 and r.json()["rebate_accrued"] == "20.00"

            await testing.eventually(scored, within=60)
    finally:
        await publisher.stop()
        for svc in reversed(running):
            await svc.stop()

    spans = [
        s for s in exporter.get_finished_spans() if format(s.context.trace_id, "032x") == trace_id
    ]
    services = {s.attributes.get("channelstream.service") for s in spans if s.attributes}
    assert {"sellthrough", "incentives", "analytics"} <= services, sorted(map(str, services))
    names = {s.name for s in spans}
    assert any("send" in n for n in names)  # the Kafka producer spans carry it between services
