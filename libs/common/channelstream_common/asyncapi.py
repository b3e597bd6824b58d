"""The AsyncAPI document of every topic, generated from the topic registry and the Avro schemas.

`python -m channelstream_common.asyncapi --write` regenerates `schemas/asyncapi.yaml`;
`--check` exits 1 when the committed file differs from what the registry generates (CI).
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
from typing import Any

import yaml

from channelstream_common import schemas
from channelstream_common.topics import ALL_TOPICS, EXTERNAL, Topic

HEADER = (
    "# Generated from channelstream_common.topics and schemas/avro by\n"
    "#   uv run python -m channelstream_common.asyncapi --write\n"
    "# Do not edit by hand: CI runs --check and fails when this file is stale.\n"
)
KAFKA_BINDING = "0.5.0"
AVRO_FORMAT = "application/vnd.apache.avro+json;version=1.9.0"
AVRO_CONTENT = "application/vnd.apache.avro+binary"
DEAD_LETTER = "DeadLetter"

# the documented default endpoints (not the environment's, so the file is the same everywhere)
LOCAL_KAFKA = "127.0.0.1:19092"
LOCAL_REGISTRY = "http://127.0.0.1:18081/apis/ccompat/v7"


def default_path() -> Path:
    return schemas.schema_dir().parent / "asyncapi.yaml"


def semantics(topic: Topic) -> list[str]:
    """What a reader of the topic may rely on, from the registry entry."""
    if topic.owner == EXTERNAL:
        writer = f"Written by {EXTERNAL} (public intake, any distributor); sellthrough validates."
    else:
        writer = f"Single writer: {topic.owner} (the shared publisher refuses any other service)."
    key = (
        f"Record key: the value field `{topic.key}`; every record with the same key is in one "
        "partition, in order."
        if topic.key
        else "Record key: the original record's key, unchanged."
    )
    retention = (
        "Kept forever (retention.ms=-1, cleanup.policy=delete): the topic is the source of truth "
        "and every projection can be rebuilt from it."
        if topic.retention_ms == -1
        else f"Retention: {topic.retention_ms} ms, cleanup.policy={topic.cleanup_policy}."
    )
    if topic.value_schema:
        delivery = (
            "At-least-once delivery: consumers deduplicate on metadata.event_id (and the event's "
            "natural key); values are Avro in the Confluent wire format, schema subject "
            f"`<prefix>{topic.subject}`, compatibility BACKWARD_TRANSITIVE."
        )
    else:
        delivery = (
            "Raw bytes of the failed record; the reason is in header dlq_reason, the origin "
            "(topic/partition@offset) in dlq_source."
        )
    return [writer, key, retention, delivery]


def _channel(topic: Topic) -> dict[str, Any]:
    message = topic.value_schema or DEAD_LETTER
    return {
        "address": topic.name,
        "title": message,
        "summary": topic.description,
        "description": "".join(f"- {line}\n" for line in semantics(topic)),
        "messages": {message: {"$ref": f"#/components/messages/{message}"}},
        "bindings": {
            "kafka": {
                "topic": topic.name,
                "partitions": topic.partitions,
                "replicas": 1,
                "topicConfiguration": {
                    "cleanup.policy": [topic.cleanup_policy],
                    "retention.ms": topic.retention_ms,
                },
                "bindingVersion": KAFKA_BINDING,
            }
        },
        "x-owner": topic.owner,
        "x-key": topic.key or None,
        "x-schema": topic.value_schema,
    }


def _operation(topic: Topic) -> dict[str, Any]:
    return {
        "action": "send",
        "channel": {"$ref": f"#/channels/{topic.name}"},
        "summary": f"{topic.owner} publishes {topic.value_schema or 'dead letters'}.",
        "x-owner": topic.owner,
    }


def _message(topic: Topic) -> dict[str, Any]:
    assert topic.value_schema
    latest = schemas.latest(topic.value_schema)
    return {
        "name": topic.value_schema,
        "title": topic.value_schema,
        "summary": latest.get("doc", ""),
        "contentType": AVRO_CONTENT,
        "headers": {"$ref": "#/components/schemas/CloudEventsHeaders"},
        "payload": {"schemaFormat": AVRO_FORMAT, "schema": latest},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": f"The value field `{topic.key}`."},
                "schemaIdLocation": "payload",
                "schemaIdPayloadEncoding": "confluent",
                "schemaLookupStrategy": "TopicIdStrategy",
                "bindingVersion": KAFKA_BINDING,
            }
        },
        "x-schema-versions": len(schemas.versions(topic.value_schema)),
    }


def _header(description: str) -> dict[str, str]:
    return {"type": "string", "description": description}


COMPONENT_SCHEMAS: dict[str, Any] = {
    "CloudEventsHeaders": {
        "type": "object",
        "description": "CloudEvents Kafka protocol binding (binary mode) headers on every event.",
        "properties": {
            "ce_specversion": _header("Always 1.0."),
            "ce_id": _header("metadata.event_id."),
            "ce_type": _header("io.channelstream.<EventType>."),
            "ce_source": _header("/channelstream/<producer>."),
            "ce_time": _header("metadata.recorded_at, ISO 8601."),
            "content-type": _header("application/avro."),
            "traceparent": _header("W3C trace context, when a trace was active."),
        },
    },
    "DeadLetterHeaders": {
        "type": "object",
        "description": "The original record's headers, plus the reason it was dead-lettered.",
        "properties": {
            "dlq_reason": _header("DECODE_ERROR: … or HANDLER_ERROR: <exception>: …"),
            "dlq_source": _header("<topic>/<partition>@<offset> of the original record."),
        },
    },
}


def document() -> dict[str, Any]:
    messages: dict[str, Any] = {
        t.value_schema: _message(t) for t in ALL_TOPICS if t.value_schema is not None
    }
    messages[DEAD_LETTER] = {
        "name": DEAD_LETTER,
        "title": "Dead letter",
        "summary": "A record a service could not decode or apply, kept byte for byte.",
        "contentType": "application/octet-stream",
        "headers": {"$ref": "#/components/schemas/DeadLetterHeaders"},
        "payload": {"type": "string", "format": "binary"},
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Channelstream events",
            "version": "1.0.0",
            "description": (
                "Every Kafka topic of Channelstream: name, record key, value schema, single "
                "writer and semantics. Services talk only through these topics. Deployments may "
                "prefix every topic name and schema subject with CHANNELSTREAM_TOPIC_PREFIX."
            ),
        },
        "defaultContentType": AVRO_CONTENT,
        "servers": {
            "local": {
                "host": LOCAL_KAFKA,
                "protocol": "kafka",
                "description": f"The local stack; schema registry at {LOCAL_REGISTRY}.",
            }
        },
        "channels": {t.name: _channel(t) for t in ALL_TOPICS},
        "operations": {f"{t.name}.send": _operation(t) for t in ALL_TOPICS},
        "components": {"messages": messages, "schemas": COMPONENT_SCHEMAS},
    }


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks, so the semantics read as a list."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def render() -> str:
    body = yaml.dump(document(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return HEADER + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m channelstream_common.asyncapi")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    mode.add_argument("--write", action="store_true", help="regenerate the file")
    parser.add_argument("--path", type=Path, default=None, help="default: schemas/asyncapi.yaml")
    args = parser.parse_args(argv)
    path: Path = args.path or default_path()
    expected = render()
    if args.write:
        path.write_text(expected, encoding="utf-8")
        print(f"wrote {path}")
        return 0
    actual = path.read_text(encoding="utf-8") if path.exists() else ""
    if actual == expected:
        print(f"{path}: up to date with the topic registry")
        return 0
    diff = difflib.unified_diff(
        actual.splitlines(), expected.splitlines(), str(path), "generated", lineterm="", n=1
    )
    print("\n".join(list(diff)[:60]), file=sys.stderr)
    print(
        f"{path} is stale: run `uv run python -m channelstream_common.asyncapi --write`",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
