"""Avro in the Confluent wire format (magic 0, 4-byte schema id, Avro binary) via the registry.

Writer schema ids and parsed schemas are cached, so the hot path makes no registry calls after
the first record of each schema (`decode_cached` is then synchronous). Reading resolves an older
writer schema to the latest local one with fastavro, which is how old records are upcast; a record
written with the latest schema is read by a decoder generated for that schema (`avro_codegen`:
the same values, 1.5-3 times as fast), and records are written by a generated encoder (the same
bytes, 2-3 times as fast). A value the generated encoder refuses is written by fastavro, which
either takes it (a float for a long, say) or raises its usual error, so what is accepted and
raised is unchanged.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Callable
from typing import Any, TypeVar

import fastavro
import httpx
from schema_registry.client import AsyncSchemaRegistryClient

from channelstream_common import schemas
from channelstream_common.avro_codegen import Reader, Writer, compile_reader, compile_writer
from channelstream_common.topics import Topic

MAGIC = 0
_HEADER = struct.Struct(">bI")
COMPATIBILITY = "BACKWARD_TRANSITIVE"


class DecodeError(ValueError):
    """A record that is not a valid Confluent-framed Avro payload for its topic."""


class PooledRegistryClient(AsyncSchemaRegistryClient):
    """The registry client over one kept httpx client: the library opens a new one per request
    (a new TLS context each, ~0.1 s of CPU per look-up: 2-9 % of a service's CPU in a 30 s
    benchmark went to its first few schema look-ups)."""

    _http: httpx.AsyncClient | None = None

    async def request(
        self,
        url: str,
        method: str = "GET",
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        timeout: Any = httpx.USE_CLIENT_DEFAULT,  # noqa: ASYNC109 (the overridden signature)
    ) -> httpx.Response:
        if self._http is None:
            self._http = httpx.AsyncClient(**self.client_kwargs)
        prepared = self.prepare_headers(body=body, headers=headers)
        return await self._http.request(
            method, url, headers=prepared, json=body, params=params, timeout=timeout
        )

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None


class AvroSerde:
    def __init__(self, registry_url: str, topic_prefix: str = "") -> None:
        self.client = PooledRegistryClient(url=registry_url)
        self.prefix = topic_prefix
        self._ids: dict[str, int] = {}
        self._writers: dict[int, Any] = {}
        self._canonical: dict[int, str] = {}
        self._readers: dict[str, Any] = {}
        # (schema id, topic name) -> the reader schema to resolve to, or None when identical
        self._resolve: dict[tuple[int, str], Any] = {}
        # topic name -> generated codec of its latest schema, None where fastavro is kept
        self._fast_readers: dict[str, Reader | None] = {}
        self._fast_writers: dict[str, Writer | None] = {}
        self._headers: dict[int, bytes] = {}

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

    def _fast_writer(self, topic: Topic) -> Writer | None:
        return _codec(self._fast_writers, compile_writer, topic)

    def _header(self, schema_id: int) -> bytes:
        header = self._headers.get(schema_id)
        if header is None:
            header = self._headers[schema_id] = _HEADER.pack(MAGIC, schema_id)
        return header

    def _fastavro_encode(self, header: bytes, topic: Topic, value: dict[str, Any]) -> bytes:
        out = io.BytesIO()
        out.write(header)
        fastavro.schemaless_writer(out, self._reader(topic), value)
        return out.getvalue()

    def encode_with(self, schema_id: int, topic: Topic, value: dict[str, Any]) -> bytes:
        header = self._header(schema_id)
        writer = self._fast_writer(topic)
        if writer is not None:
            try:
                return writer(value, header)
            except Exception:
                pass  # fastavro decides: it coerces the value or raises its usual error
        return self._fastavro_encode(header, topic, value)

    def encode_many(
        self, schema_id: int, topic: Topic, values: list[dict[str, Any]]
    ) -> list[bytes]:
        return [self.encode_with(schema_id, topic, value) for value in values]

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

    def _fast_reader(self, topic: Topic) -> Reader | None:
        return _codec(self._fast_readers, compile_reader, topic)

    def decode_cached(self, topic: Topic, payload: bytes | None) -> dict[str, Any] | None:
        """Decode without awaiting; None when the writer schema is not cached yet.

        Bytes left after the record make it undecodable, whichever schema wrote it."""
        schema_id = self._schema_id(payload)
        writer = self._writers.get(schema_id)
        if writer is None:
            return None
        assert payload is not None
        value: Any
        try:
            resolve_to = self._resolution(schema_id, topic)
            fast = None if resolve_to is not None else self._fast_reader(topic)
            if fast is not None:  # the writer schema is the latest local one
                value = fast(payload, _HEADER.size)
            else:
                stream = io.BytesIO(payload)
                stream.seek(_HEADER.size)
                value = fastavro.schemaless_reader(stream, writer, resolve_to)
                if stream.tell() != len(payload):
                    raise ValueError(
                        f"{len(payload) - stream.tell()} trailing bytes after the record"
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
        await self.client.aclose()


C = TypeVar("C")


def _codec(
    cache: dict[str, C | None], compile_codec: Callable[[Any], C | None], topic: Topic
) -> C | None:
    """The generated codec of the topic's latest schema, compiled once; None (keep fastavro)
    where the generator does not handle the schema, or fails on it: a generator bug must not
    stop the traffic."""
    try:
        return cache[topic.name]
    except KeyError:
        assert topic.value_schema, f"{topic.name} carries raw bytes"
        try:
            codec = compile_codec(schemas.latest(topic.value_schema))
        except Exception:
            codec = None
        cache[topic.name] = codec
        return codec


def _normal(schema: Any) -> str:
    """Exact schema text (logical types and defaults included), for an identity check."""
    return json.dumps(schema, sort_keys=True, separators=(",", ":"))
