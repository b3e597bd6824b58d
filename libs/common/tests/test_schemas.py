from __future__ import annotations

import copy
import datetime as dt
import io
import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from channelstream_common import schemas
from fastavro import schemaless_reader, schemaless_writer

NAMESPACE = "io.channelstream.events"
EXPECTED_EVENTS = {
    "PartnerEnrolled",
    "DealRegistered",
    "DealRegistrationRejected",
    "SellThroughLineSubmitted",
    "SellInShipmentSubmitted",
    "SellThroughReported",
    "SellThroughRejected",
    "SellInRecorded",
    "RebateAccrued",
}
METADATA_FIELDS = [
    "event_id",
    "occurred_at",
    "recorded_at",
    "producer",
    "correlation_id",
    "causation_id",
    "trace_id",
]


def _named_types(schema: Any) -> list[dict[str, Any]]:
    if isinstance(schema, list):
        return [t for branch in schema for t in _named_types(branch)]
    if not isinstance(schema, dict):
        return []
    found = [schema] if schema["type"] in ("record", "enum", "fixed") else []
    for field in schema.get("fields", []):
        found += _named_types(field["type"])
    return found + _named_types(schema.get("items")) + _named_types(schema.get("values"))


def _field(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in schema["fields"] if f["name"] == name)


def metadata(**overrides: Any) -> dict[str, Any]:
    now = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
    return {
        "event_id": str(uuid.uuid4()),
        "occurred_at": now,
        "recorded_at": now,
        "producer": "sellthrough",
        "correlation_id": "upload-1",
        "causation_id": None,
        "trace_id": None,
        **overrides,
    }


@pytest.fixture
def sell_through_v1() -> dict[str, Any]:
    return copy.deepcopy(schemas.versions("SellThroughReported")[0])


def test_every_expected_event_type_is_present():
    assert set(schemas.event_types()) >= EXPECTED_EVENTS


@pytest.mark.parametrize("event_type", sorted(EXPECTED_EVENTS))
def test_every_event_loads_and_parses(event_type):
    schema = schemas.latest(event_type)
    assert schema["type"] == "record"
    assert schema["name"] == event_type
    assert schemas.parsed(event_type)["name"] == f"{NAMESPACE}.{event_type}"


@pytest.mark.parametrize("event_type", sorted(EXPECTED_EVENTS))
def test_every_version_starts_with_the_shared_metadata_record(event_type):
    reference = _field(schemas.versions("PartnerEnrolled")[0], "metadata")
    for version in schemas.versions(event_type):
        first = version["fields"][0]
        assert first["name"] == "metadata"
        assert first["type"] == reference["type"]
        assert first["type"]["name"] == "EventMetadata"
        assert [f["name"] for f in first["type"]["fields"]] == METADATA_FIELDS


@pytest.mark.parametrize("event_type", sorted(EXPECTED_EVENTS))
def test_every_named_type_and_field_is_documented_in_the_fixed_namespace(event_type):
    for version in schemas.versions(event_type):
        for named in _named_types(version):
            assert named.get("namespace") == NAMESPACE, named["name"]
            assert named.get("doc", "").strip(), named["name"]
            for field in named.get("fields", []):
                assert field.get("doc", "").strip(), f"{named['name']}.{field['name']}"


@pytest.mark.parametrize("event_type", sorted(EXPECTED_EVENTS))
def test_nullable_fields_are_null_first_with_null_default(event_type):
    for named in _named_types(schemas.latest(event_type)):
        for field in named.get("fields", []):
            if isinstance(field["type"], list):
                assert field["type"][0] == "null"
                assert field.get("default", "missing") is None


def test_schema_dir_honours_environment_override(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("CHANNELSTREAM_SCHEMA_DIR", str(tmp_path))
    assert schemas.schema_dir() == tmp_path
    assert schemas.event_types() == []


def test_schema_dir_defaults_to_the_repository_folder(monkeypatch):
    monkeypatch.delenv("CHANNELSTREAM_SCHEMA_DIR", raising=False)
    assert schemas.schema_dir() == Path(__file__).resolve().parents[3] / "schemas" / "avro"


def test_versions_are_ordered_numerically(monkeypatch, tmp_path: Path, sell_through_v1):
    monkeypatch.setenv("CHANNELSTREAM_SCHEMA_DIR", str(tmp_path))
    (tmp_path / "E").mkdir()
    for n in (1, 2, 10):
        doc = {**sell_through_v1, "doc": f"version {n}"}
        (tmp_path / "E" / f"v{n}.avsc").write_text(json.dumps(doc))
    assert [v["doc"] for v in schemas.versions("E")] == ["version 1", "version 2", "version 10"]
    assert schemas.latest("E")["doc"] == "version 10"


def test_repository_schemas_are_backward_transitive_compatible():
    assert schemas.check_all() == {t: [] for t in schemas.event_types()}


def test_main_exits_zero_when_all_schemas_are_compatible(capsys):
    assert schemas.main() == 0
    assert "SellThroughReported: ok" in capsys.readouterr().out


def test_v2_adding_an_optional_field_with_default_is_compatible(sell_through_v1):
    v2 = copy.deepcopy(sell_through_v1)
    v2["fields"].append(
        {"name": "channel_note", "type": ["null", "string"], "default": None, "doc": "Note."}
    )
    assert schemas.check_backward_transitive([sell_through_v1, v2]) == []


def test_v2_adding_a_required_field_without_default_is_reported(sell_through_v1):
    v2 = copy.deepcopy(sell_through_v1)
    v2["fields"].append({"name": "channel_note", "type": "string", "doc": "Note."})
    problems = schemas.check_backward_transitive([sell_through_v1, v2])
    assert any("channel_note: field added without a default" in p for p in problems)
    assert any("unreadable with v2" in p for p in problems)


def test_v2_changing_a_field_from_string_to_int_is_reported(sell_through_v1):
    v2 = copy.deepcopy(sell_through_v1)
    _field(v2, "sku")["type"] = "int"
    problems = schemas.check_backward_transitive([sell_through_v1, v2])
    assert any("sku: type changed from string to int" in p for p in problems)
    assert any("unreadable with v2" in p for p in problems)


def test_v2_removing_an_enum_symbol_used_by_data_is_reported(sell_through_v1):
    v2 = copy.deepcopy(sell_through_v1)
    _field(v2, "ingestion_path")["type"]["symbols"].remove("KAFKA")
    problems = schemas.check_backward_transitive([sell_through_v1, v2])
    assert any("enum symbols removed" in p and "KAFKA" in p for p in problems)
    assert any("unreadable with v2" in p for p in problems)


def test_incompatibility_with_any_earlier_version_is_reported_transitively(sell_through_v1):
    v2 = copy.deepcopy(sell_through_v1)
    v2["fields"].append(
        {"name": "channel_note", "type": ["null", "string"], "default": None, "doc": "Note."}
    )
    v3 = copy.deepcopy(v2)
    _field(v3, "channel_note").pop("default")
    problems = schemas.check_backward_transitive([sell_through_v1, v2, v3])
    assert any(p.startswith("v1 -> v3:") for p in problems)
    assert not any(p.startswith("v2 -> v3:") for p in problems)


def test_main_exits_one_when_a_schema_is_incompatible(
    monkeypatch, tmp_path: Path, sell_through_v1, capsys
):
    monkeypatch.setenv("CHANNELSTREAM_SCHEMA_DIR", str(tmp_path))
    v2 = copy.deepcopy(sell_through_v1)
    _field(v2, "quantity")["type"] = "string"
    (tmp_path / "SellThroughReported").mkdir()
    for n, version in enumerate((sell_through_v1, v2), 1):
        (tmp_path / "SellThroughReported" / f"v{n}.avsc").write_text(json.dumps(version))
    assert schemas.main() == 1
    assert "SellThroughReported: INCOMPATIBLE" in capsys.readouterr().out


def test_record_with_decimal_and_date_round_trips_through_parsed_schema():
    record = {
        "metadata": metadata(),
        "report_id": "R-1",
        "line_no": 7,
        "distributor_id": "DIST-1",
        "reseller_id": "RES-1",
        "sku": "SKU-1",
        "product_line": None,
        "quantity": -3,
        "unit_price": Decimal("1234.5678"),
        "currency": "USD",
        "sold_on": dt.date(2026, 10, 31),
        "end_customer_name": "Acme",
        "end_customer_country": "DE",
        "deal_id": None,
        "upload_id": "U-1",
        "ingestion_path": "HTTP",
        "submitted_by": "alice",
        "raw_line": "R-1,7,DIST-1,RES-1,SKU-1,-3,1234.5678,USD,2026-10-31,Acme,DE,",
        "line_hash": "abc",
        "end_customer_domain": "acme.example",
    }
    schema = schemas.parsed("SellThroughReported")
    buf = io.BytesIO()
    schemaless_writer(buf, schema, record)
    buf.seek(0)
    assert schemaless_reader(buf, schema, schema) == record
