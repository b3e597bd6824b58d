"""`channelstream stack up|down|status|reset|env`: the local Kafka, registry and PostgreSQL."""

from __future__ import annotations

import typer

from channelstream_cli import stack
from channelstream_cli.output import fail, table

app = typer.Typer(
    help="Run the local stack (Kafka 4.1 KRaft, Apicurio Registry, PostgreSQL).",
    no_args_is_help=True,
)


@app.command()
def up() -> None:
    """Start every component that is not running; wait until each answers."""
    try:
        table("stack up", stack.up())
    except stack.StackError as exc:
        fail(str(exc))


@app.command()
def down() -> None:
    """Stop every process the stack started."""
    table("stack down", stack.down())


@app.command()
def status() -> None:
    """Show whether each component runs and answers."""
    table("stack status", stack.status())


@app.command()
def reset() -> None:
    """Stop everything and delete its data (downloads are kept)."""
    stack.reset()
    typer.echo("stack data removed")


@app.command()
def env() -> None:
    """Print the environment variables that point services and tests at this stack."""
    e = stack.endpoints()
    typer.echo(f"export CHANNELSTREAM_KAFKA_BOOTSTRAP={e['kafka']}")
    typer.echo(f"export CHANNELSTREAM_SCHEMA_REGISTRY_URL={e['registry']}")
    typer.echo(f"export CHANNELSTREAM_POSTGRES_URL={e['postgres']}")
