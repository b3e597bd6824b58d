"""Event values are valid against their Avro contracts and carry provenance and causality."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import fastavro
from channelstream_common import schemas
from channelstream_common.events import derived_id
from channelstream_common.outbox import unpack_headers
from sellthrough.domain.decisions import Decision
from sellthrough.domain.model import Kind, Reason, SaleLine, ShipmentLine, Status
from sellthrough.domain.parsing import parse_sale, parse_shipment
from sellthrough.domain.validation import sale_hash
from sellthrough.service_layer.flavors import SALES, SHIPMENTS
from sellthrough.service_layer.messages import Stamp
from sellthrough.service_layer.submissions import Source, Submitted

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
STAMP = Stamp(NOW, None)


def roundtrip(event_type, value):
    schema = schemas.parsed(event_type)
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schema, value)
    buf.seek(0)
    return fastavro.schemaless_reader(buf, schema)


def kafka_item(fields, kind=Kind.SALE):
    source = Source(kind, "corr-1", "KAFKA", "acme-edi", "evt-9", date(2026, 3, 10))
    return Submitted(fields, None, "{...}", "t.intake/0@5", source)


def test_an_accepted_line_becomes_sell_through_reported(rules, sale):
    line = parse_sale(sale())
    assert isinstance(line, SaleLine)
    item = kafka_item(sale())
    [(topic, value)], dead = SALES.stage(
        item, Decision(Status.ACCEPTED, line, sale_hash(line)), rules, STAMP
    )
    assert topic.value_schema == "SellThroughReported" and not dead
    decoded = roundtrip("SellThroughReported", value)
    assert decoded["product_line"] == "Firewalls"
    assert decoded["metadata"]["event_id"] == derived_id("SellThroughReported", "R-1", 1)
    assert decoded["metadata"]["correlation_id"] == "corr-1"
    assert decoded["metadata"]["causation_id"] == "evt-9"
    assert decoded["metadata"]["occurred_at"] == datetime(2026, 3, 1, tzinfo=UTC)
    assert (decoded["ingestion_path"], decoded["upload_id"]) == ("KAFKA", "corr-1")
    assert decoded["submitted_by"] == "acme-edi"
    assert str(decoded["unit_price"]) == "1200.5000"


def test_a_refused_line_becomes_sell_through_rejected_with_what_could_be_read(rules, sale):
    item = kafka_item(sale(quantity="lots"))
    decision: Decision[SaleLine] = Decision(
        Status.REJECTED, reason=Reason.MALFORMED_ROW, detail="quantity 'lots' is not an integer"
    )
    [(topic, value)], _ = SALES.stage(item, decision, rules, STAMP)
    assert topic.value_schema == "SellThroughRejected"
    decoded = roundtrip("SellThroughRejected", value)
    assert (decoded["report_id"], decoded["line_no"]) == ("R-1", 1)
    assert decoded["reason"] == "MALFORMED_ROW"
    assert decoded["raw_line"] == "{...}"
    assert decoded["metadata"]["event_id"] == derived_id("SellThroughRejected", "t.intake/0@5")


def test_an_http_line_has_no_cause_and_is_correlated_by_its_upload(rules, sale):
    line = parse_sale(sale())
    assert isinstance(line, SaleLine)
    source = Source(Kind.SALE, "upload-7", "HTTP", "anonymous", None, date(2026, 3, 10))
    item = Submitted(sale(), None, "R-1,...", "upload-7:2", source)
    [(_, value)], _ = SALES.stage(
        item, Decision(Status.ACCEPTED, line, sale_hash(line)), rules, STAMP
    )
    assert value["metadata"]["causation_id"] is None
    assert value["metadata"]["correlation_id"] == "upload-7"


def test_an_accepted_shipment_becomes_sell_in_recorded(rules, shipment):
    line = parse_shipment(shipment())
    assert isinstance(line, ShipmentLine)
    item = kafka_item(shipment(), Kind.SHIPMENT)
    [(topic, value)], _ = SHIPMENTS.stage(item, Decision(Status.ACCEPTED, line, "h"), rules, STAMP)
    assert topic.value_schema == "SellInRecorded"
    decoded = roundtrip("SellInRecorded", value)
    assert (decoded["shipment_id"], decoded["quantity"]) == ("S-1", 40)
    assert decoded["metadata"]["event_id"] == derived_id("SellInRecorded", "S-1")


def test_a_refused_shipment_goes_to_the_dead_letter_topic_with_its_reason(rules, shipment):
    item = kafka_item(shipment(currency="JPY"), Kind.SHIPMENT)
    decision: Decision[ShipmentLine] = Decision(
        Status.REJECTED, reason=Reason.UNSUPPORTED_CURRENCY, detail="JPY"
    )
    events, [row] = SHIPMENTS.stage(item, decision, rules, STAMP)
    assert events == []
    assert row["key"] == b"S-1"
    assert row["value"] == b"{...}"
    assert ("dlq_reason", b"UNSUPPORTED_CURRENCY: JPY") in unpack_headers(row["headers"])


def test_duplicates_and_holds_announce_nothing(rules, sale):
    line = parse_sale(sale())
    assert isinstance(line, SaleLine)
    for status in (Status.DUPLICATE, Status.HELD):
        assert SALES.stage(kafka_item(sale()), Decision(status, line, "h"), rules, STAMP) == (
            [],
            [],
        )
