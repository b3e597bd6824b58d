"""The `channelstream` command."""

from __future__ import annotations

import typer

from channelstream_cli import stack_cmd

app = typer.Typer(
    help="Channelstream: event-sourced two-tier channel management.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(stack_cmd.app, name="stack")
