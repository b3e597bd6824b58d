"""`channelstream views ...`: the read models of sellthrough, incentives and analytics."""

from __future__ import annotations

import typer

from channelstream_cli.commands import views_analytics, views_incentives, views_sellthrough

app = typer.Typer(
    help="Show the live views (inventory, rebate statements, scorecards).", no_args_is_help=True
)
for _module in (views_sellthrough, views_incentives, views_analytics):
    app.registered_commands.extend(_module.app.registered_commands)
