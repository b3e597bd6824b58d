"""`channelstream services up|down|status`: the five services as local processes."""

from __future__ import annotations

import typer

from channelstream_cli import services, stack
from channelstream_cli.output import fail, table

app = typer.Typer(help="Run the five services as separate local processes.", no_args_is_help=True)


@app.command()
def up() -> None:
    """Start every service that is not running and wait until each is ready."""
    try:
        table("services up", services.up())
    except stack.StackError as exc:
        fail(str(exc))


@app.command()
def down() -> None:
    """Stop the services (gracefully: consumers commit their offsets)."""
    table("services down", services.down())


@app.command()
def status() -> None:
    """Show which services run and whether they are ready."""
    table("services status", services.status())
