"""`channelstream audit accrual|statement`: every cent traced back to the events behind it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import typer
from channelstream_common import audit
from channelstream_common.kafka_security import client_kwargs
from channelstream_common.serde import AvroSerde
from channelstream_common.settings import Settings
from rich.table import Table

from channelstream_cli.output import console, fail

app = typer.Typer(no_args_is_help=True)


def _history() -> audit.History:
    s = Settings.from_env("cli")
    with console.status("reading the event history from Kafka..."):
        serde = AvroSerde(s.schema_registry_url, s.topic_prefix)
        return asyncio.run(audit.History.load(s.kafka_bootstrap, serde, security=client_kwargs(s)))


def _source_text(chain: dict[str, Any]) -> str:
    src = chain["source"] or {}
    if "report_id" in src:
        up = src["upload"]
        return (
            f"line {src['report_id']}#{src['line_no']} ({src['sku']} x{src['quantity']} @ "
            f"{src['unit_price']}), upload {up['upload_id']} by {up['submitted_by']} via "
            f"{up['ingestion_path']} at {up['received_at']:%Y-%m-%d %H:%M:%S}"
        )
    if src:
        return f"deal {src.get('deal_id')}"
    return "source event not found"


def _print_chain(chain: dict[str, Any]) -> None:
    t = Table(show_header=False, title=f"accrual {chain['accrual_id']}")
    t.add_row("partner / period", f"{chain['partner_id']} / {chain['period']}")
    t.add_row("rule / program", f"{chain['reason']} / {chain['program']}")
    t.add_row("amount", f"{chain['amount']} = {chain['rate']} x {chain['basis_amount']}")
    t.add_row("caused by", _source_text(chain))
    if chain["source"] and "raw_line" in chain["source"]:
        t.add_row("raw line", chain["source"]["raw_line"])
    if chain["cause"]:
        t.add_row("released by", f"{chain['cause']['event']} {chain['cause']['event_id']}")
    t.add_row(
        "trace id",
        str(chain["accrual_event"].get("trace_id") or (chain["source"] or {}).get("trace_id")),
    )
    t.add_row("correlation", str(chain["accrual_event"]["correlation_id"]))
    console.print(t)
    if chain["contributing_lines"]:
        lines = Table(
            "report#line",
            "sold on",
            "qty",
            "unit price",
            "upload",
            title=(f"{len(chain['contributing_lines'])} lines contributing to the true-up"),
        )
        for c in chain["contributing_lines"]:
            lines.add_row(
                f"{c['report_id']}#{c['line_no']}",
                str(c["sold_on"]),
                str(c["quantity"]),
                str(c["unit_price"]),
                str(c["upload"]["upload_id"]),
            )
        console.print(lines)


@app.command()
def accrual(
    accrual_id: str,
    as_json: bool = typer.Option(False, "--json", help="print the chain as JSON"),
) -> None:
    """Explain one accrual: rule, program version, causing event, raw line, upload, trace."""
    history = _history()
    found = audit.find_accrual(accrual_id, history)
    if found is None:
        fail(f"no RebateAccrued event with accrual_id {accrual_id}")
    chain = audit.explain_accrual(found, history)
    if as_json:
        typer.echo(json.dumps(chain, default=str, indent=2))
    else:
        _print_chain(chain)


@app.command()
def statement(
    partner_id: str,
    quarter: str = typer.Argument(..., help="e.g. 2026-Q3"),
    as_json: bool = typer.Option(False, "--json", help="print the statement as JSON"),
) -> None:
    """Explain every accrual of a partner's rebate statement for a quarter."""
    history = _history()
    result = audit.statement(partner_id, quarter, history)
    if not result["accruals"]:
        fail(f"no accruals for {partner_id} in {quarter}")
    if as_json:
        typer.echo(json.dumps(result, default=str, indent=2))
        return
    t = Table(
        "accrual",
        "rule",
        "amount",
        "caused by",
        "trace id",
        title=f"{partner_id} {quarter}: total {result['total']}",
    )
    for c in result["accruals"]:
        t.add_row(
            c["accrual_id"][:8],
            c["reason"],
            str(c["amount"]),
            _source_text(c),
            str((c["source"] or {}).get("trace_id")),
        )
    console.print(t)
