"""One way to print results and errors from every command."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NoReturn

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def fail(message: str, code: int = 1) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def table(title: str, rows: Mapping[str, object]) -> None:
    t = Table(title=title, show_header=False)
    for key, value in rows.items():
        t.add_row(key, str(value))
    console.print(t)
