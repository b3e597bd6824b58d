"""Avro in the Confluent wire format (magic 0, 4-byte schema id, Avro binary) via the registry.

Writer schema ids and parsed schemas are cached, so the hot path makes no registry calls after
the first record of each schema (`decode_cached` is then synchronous). Reading resolves an older
writer schema to the latest local one, which is how old records are upcast; a record written with
the latest schema is read without resolution (half the cost).
"""

from __future__ import annotations

import io
import json
import struct
from typing import Any

import fastavro
from schema_registry.client import AsyncSchemaRegistryClient

from channelstream_common import schemas
from channelstream_common.topics import Topic

MAGIC = 0
_HEADER = struct.Struct(">bI")
COMPATIBILITY = "BACKWARD_TRANSITIVE"


class DecodeError(ValueError):
    """A record that is not a valid Confluent-framed Avro payload for its topic."""


class AvroSerde:
    def __init__(self, registry_url: str, topic_prefix: str = "") -> None:
        self.client = AsyncSchemaRegistryClient(url=registry_url)
        self.prefix = topic_prefix
        self._ids: dict[str, int] = {}
        self._writers: dict[int, Any] = {}
        self._canonical: dict[int, str] = {}
        self._readers: dict[str, Any] = {}
        # (schema id, topic name) -> the reader schema to resolve to, or None when identical
        self._resolve: dict[tuple[int, str], Any] = {}

    def subject(self, topic: Topic) -> str:
        return f"{topic.full_name(self.prefix)}-value"

    async def register_all_versions(self, topic: Topic) -> int:
        """Register v1..vN of the topic's schema in order; returns the latest id."""
        assert topic.value_schema, f"{topic.name} carries raw bytes"
        subject = self.subject(topic)
        await self.client.update_compatibility(COMPATIBILITY, subject)
        schema_id = 0
        for version in schemas.versions(topic.value_schema):
            schema_id = await self.client.register(subject, version)
        self._ids[topic.name] = schema_id
        return schema_id

    async def schema_id(self, topic: Topic) -> int:
        cached = self._ids.get(topic.name)
        if cached is None:
            assert topic.value_schema, f"{topic.name} carries raw bytes"
            cached = await self.client.register(
                self.subject(topic), schemas.latest(topic.value_schema)
            )
            self._ids[topic.name] = cached
        return cached

    def _reader(self, topic: Topic) -> Any:
        reader = self._readers.get(topic.name)
        if reader is None:
            assert topic.value_schema
            reader = self._readers[topic.name] = schemas.parsed(topic.value_schema)
        return reader

    async def encode(self, topic: Topic, value: dict[str, Any]) -> bytes:
        schema_id = await self.schema_id(topic)
        return self.encode_with(schema_id, topic, value)

    def encode_with(self, schema_id: int, topic: Topic, value: dict[str, Any]) -> bytes:
        out = io.BytesIO()
        out.write(_HEADER.pack(MAGIC, schema_id))
        fastavro.schemaless_writer(out, self._reader(topic), value)
        return out.getvalue()

    def encode_many(
        self, schema_id: int, topic: Topic, values: list[dict[str, Any]]
    ) -> list[bytes]:
        schema = self._reader(topic)
        header = _HEADER.pack(MAGIC, schema_id)
        out = []
        for value in values:
            buf = io.BytesIO()
            buf.write(header)
            fastavro.schemaless_writer(buf, schema, value)
            out.append(buf.getvalue())
        return out

    async def _writer(self, schema_id: int) -> Any:
        writer = self._writers.get(schema_id)
        if writer is None:
            found = await self.client.get_by_id(schema_id)
            if found is None:
                raise DecodeError(f"schema id {schema_id} is not in the registry")
            self._canonical[schema_id] = _normal(found.raw_schema)
            writer = self._writers[schema_id] = fastavro.parse_schema(found.raw_schema)
        return writer

    def _resolution(self, schema_id: int, topic: Topic) -> Any:
        key = (schema_id, topic.name)
        if key not in self._resolve:
            assert topic.value_schema
            same = self._canonical[schema_id] == _normal(schemas.latest(topic.value_schema))
            self._resolve[key] = None if same else self._reader(topic)
        return self._resolve[key]

    @staticmethod
    def _schema_id(payload: bytes | None) -> int:
        if payload is None or len(payload) < _HEADER.size:
            raise DecodeError("empty or truncated record")
        magic, schema_id = _HEADER.unpack_from(payload)
        if magic != MAGIC:
            raise DecodeError(f"unknown magic byte {magic}: not Confluent wire format")
        return int(schema_id)

    def decode_cached(self, topic: Topic, payload: bytes | None) -> dict[str, Any] | None:
        """Decode without awaiting; None when the writer schema is not cached yet."""
        schema_id = self._schema_id(payload)
        writer = self._writers.get(schema_id)
        if writer is None:
            return None
        assert payload is not None
        try:
            value = fastavro.schemaless_reader(
                io.BytesIO(payload[_HEADER.size :]), writer, self._resolution(schema_id, topic)
            )
        except Exception as exc:
            raise DecodeError(f"undecodable Avro for {topic.name}: {exc}") from exc
        assert isinstance(value, dict)
        return value

    async def decode(self, topic: Topic, payload: bytes | None) -> dict[str, Any]:
        value = self.decode_cached(topic, payload)
        if value is None:
            await self._writer(self._schema_id(payload))
            value = self.decode_cached(topic, payload)
            assert value is not None
        return value

    async def close(self) -> None:
        await self.client.session.aclose() if hasattr(self.client, "session") else None


def _normal(schema: Any) -> str:
    """Exact schema text (logical types and defaults included), for an identity check."""
    return json.dumps(schema, sort_keys=True, separators=(",", ":"))
