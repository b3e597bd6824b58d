"""`channelstream topics ensure|list`: the topic registry made real on the broker."""

from __future__ import annotations

import asyncio

import typer
from channelstream_common.admin import TopicMismatch, ensure_topics, register_schemas
from channelstream_common.kafka_security import client_kwargs
from channelstream_common.serde import AvroSerde
from channelstream_common.settings import Settings
from channelstream_common.topics import ALL_TOPICS

from channelstream_cli.output import fail, table

app = typer.Typer(no_args_is_help=True)


@app.command()
def ensure() -> None:
    """Create missing topics, refuse incompatible ones, register every schema version."""
    settings = Settings.from_env("cli")

    async def run() -> dict[str, str]:
        result = await ensure_topics(
            settings.kafka_bootstrap, settings.topic_prefix, security=client_kwargs(settings)
        )
        ids = await register_schemas(AvroSerde(settings.schema_registry_url, settings.topic_prefix))
        return {name: f"{state}, schema id {ids.get(name, '-')}" for name, state in result.items()}

    try:
        table("topics ensure", asyncio.run(run()))
    except TopicMismatch as exc:
        fail(f"incompatible existing topics: {exc}")
    except Exception as exc:
        fail(f"{type(exc).__name__}: {exc}")


@app.command("list")
def list_() -> None:
    """Show the topic registry: name, key, schema, owner."""
    table(
        "topics",
        {
            t.name: f"key={t.key or '-'} schema={t.value_schema or 'raw'} owner={t.owner}"
            for t in ALL_TOPICS
        },
    )
