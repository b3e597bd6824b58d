"""The committed AsyncAPI document is current and describes every topic of the registry."""

from __future__ import annotations

import yaml
from channelstream_common import asyncapi, schemas
from channelstream_common.topics import ALL_TOPICS


def committed() -> dict:
    return yaml.safe_load(asyncapi.default_path().read_text(encoding="utf-8"))


def test_committed_document_is_what_the_registry_generates():
    assert asyncapi.default_path().read_text(encoding="utf-8") == asyncapi.render(), (
        "schemas/asyncapi.yaml is stale: uv run python -m channelstream_common.asyncapi --write"
    )
    assert asyncapi.main(["--check"]) == 0


def test_check_fails_on_a_stale_file(tmp_path, capsys):
    stale = tmp_path / "asyncapi.yaml"
    stale.write_text(asyncapi.render().replace("partner_id", "partner_key", 1))
    assert asyncapi.main(["--check", "--path", str(stale)]) == 1
    assert "--write" in capsys.readouterr().err
    assert asyncapi.main(["--write", "--path", str(stale)]) == 0
    assert asyncapi.main(["--check", "--path", str(stale)]) == 0
    assert asyncapi.main(["--check", "--path", str(tmp_path / "missing.yaml")]) == 1


def test_every_topic_appears_with_key_schema_owner_and_semantics():
    doc = committed()
    assert doc["asyncapi"].startswith("3.")
    assert set(doc["channels"]) == {t.name for t in ALL_TOPICS}
    for topic in ALL_TOPICS:
        channel = doc["channels"][topic.name]
        assert channel["address"] == topic.name
        assert channel["x-owner"] == topic.owner
        assert channel["x-key"] == (topic.key or None)
        assert channel["x-schema"] == topic.value_schema
        assert channel["summary"] == topic.description
        assert topic.owner in channel["description"]
        assert ("retention.ms=-1" in channel["description"]) == (topic.retention_ms == -1)
        kafka = channel["bindings"]["kafka"]
        assert kafka["partitions"] == topic.partitions
        assert kafka["topicConfiguration"]["retention.ms"] == topic.retention_ms
        assert kafka["topicConfiguration"]["cleanup.policy"] == [topic.cleanup_policy]
        operation = doc["operations"][f"{topic.name}.send"]
        assert operation["action"] == "send"
        assert operation["channel"] == {"$ref": f"#/channels/{topic.name}"}
        (ref,) = channel["messages"].values()
        message = doc["components"]["messages"][ref["$ref"].rsplit("/", 1)[-1]]
        if topic.value_schema:
            assert message["payload"]["schema"] == schemas.latest(topic.value_schema)
            assert topic.key in message["bindings"]["kafka"]["key"]["description"]
            assert message["x-schema-versions"] == len(schemas.versions(topic.value_schema))
        else:
            assert message["payload"] == {"type": "string", "format": "binary"}
