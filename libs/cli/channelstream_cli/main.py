"""The `channelstream` command."""

from __future__ import annotations

import typer

from channelstream_cli import services_cmd, stack_cmd
from channelstream_cli.commands import audit, deals, demo, enrol, qbr, replay, topics, upload, views

app = typer.Typer(
    help="Channelstream: event-sourced two-tier channel management.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(stack_cmd.app, name="stack")
app.add_typer(services_cmd.app, name="services")
app.add_typer(topics.app, name="topics", help="Create topics and register schemas.")
app.add_typer(enrol.app, name="enrol", help="Enrol partners (one, or a bulk CSV).")
app.add_typer(deals.app, name="deals", help="Register and look up deals.")
app.add_typer(upload.app, name="upload", help="Upload sell-through or sell-in files.")
app.add_typer(views.app, name="views")
app.add_typer(qbr.app, name="qbr", help="Produce a QBR package for a distributor.")
app.add_typer(replay.app, name="replay", help="Rebuild projections from the event history.")
app.add_typer(audit.app, name="audit", help="Trace any number back to its events.")
app.command("demo")(demo.demo)
