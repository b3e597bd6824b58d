"""`topics ensure`: create missing topics, refuse incompatible existing ones, register schemas."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from channelstream_common.serde import AvroSerde
from channelstream_common.topics import ALL_TOPICS, Topic


class TopicMismatch(RuntimeError):
    """An existing topic's settings contradict the registry; nothing may start on it."""


async def _describe(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    described = await admin.describe_topics(names)
    return {
        d["topic"]: len(d["partitions"])
        for d in described
        if d.get("error_code", 0) == 0 and d.get("partitions")
    }


async def ensure_topics(
    bootstrap: str,
    prefix: str = "",
    topics: Iterable[Topic] = ALL_TOPICS,
    replication_factor: int | None = None,
    *,
    security: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Returns {topic: 'created' | 'ok'}; raises TopicMismatch listing every problem.

    Replication defaults to CHANNELSTREAM_TOPIC_REPLICAS (1: the local one-node broker).
    `security`: kafka_security.client_kwargs(settings).
    """
    replicas = replication_factor or int(os.environ.get("CHANNELSTREAM_TOPIC_REPLICAS", "1"))
    wanted = {t.full_name(prefix): t for t in topics}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **(security or {}))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in wanted if n not in existing]
        if missing:
            response = await admin.create_topics(
                [
                    NewTopic(n, wanted[n].partitions, replicas, topic_configs=wanted[n].config)
                    for n in missing
                ]
            )
            # 36 = TOPIC_ALREADY_EXISTS: a concurrent `ensure` won the race, which is fine
            errors = response.topic_errors
            refused = [f"{e[0]}: error {e[1]}" for e in errors if e[1] not in (0, 36)]
            if refused:
                raise TopicMismatch("could not create " + "; ".join(refused))
        present = [n for n in wanted if n in existing]
        problems: list[str] = []
        if present:
            partitions = await _describe(admin, present)
            configs = await admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, n) for n in present]
            )
            actual: dict[str, dict[str, str]] = {}
            for response in configs:
                for res in response.resources:
                    actual[res[3]] = {c[0]: c[1] for c in res[4]}
            for name in present:
                topic = wanted[name]
                if partitions.get(name) != topic.partitions:
                    problems.append(
                        f"{name}: {partitions.get(name)} partitions, "
                        f"registry says {topic.partitions}"
                    )
                for key, value in topic.config.items():
                    if actual.get(name, {}).get(key) != value:
                        problems.append(
                            f"{name}: {key}={actual.get(name, {}).get(key)}, registry says {value}"
                        )
        if problems:
            raise TopicMismatch("; ".join(problems))
        return {n: ("created" if n in missing else "ok") for n in wanted}
    finally:
        await admin.close()


async def register_schemas(
    serde: AvroSerde, topics: Iterable[Topic] = ALL_TOPICS
) -> dict[str, int]:
    """Register every version of every event schema (BACKWARD_TRANSITIVE); returns latest ids."""
    return {
        t.full_name(serde.prefix): await serde.register_all_versions(t)
        for t in topics
        if t.value_schema
    }
