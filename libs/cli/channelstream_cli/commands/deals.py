"""`channelstream deals register|show|list`: register deals and look them up (dealreg)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import httpx
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from channelstream_cli.client import request
from channelstream_cli.output import console, fail, table

app = typer.Typer(no_args_is_help=True)

STATUS_STYLE = {"APPROVED": "green", "REJECTED": "red", "FAILED": "red"}
JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {}


def _error_line(response: httpx.Response) -> str:
    err = _body(response).get("error")
    if isinstance(err, dict):
        return f"{err.get('code')}: {err.get('detail')}"
    return f"HTTP {response.status_code}: {response.text[:200]}"


def _decide(item: Any) -> dict[str, Any]:
    """POST one request; the service's decision, or a FAILED line when it gave none."""
    response = request(
        "dealreg",
        "POST",
        "/deals",
        content=json.dumps(item).encode(),
        headers={"Content-Type": "application/json"},
    )
    body = _body(response)
    if body.get("status") in ("APPROVED", "REJECTED"):
        return body
    deal_id = item.get("deal_id", "") if isinstance(item, dict) else ""
    return {"status": "FAILED", "deal_id": deal_id, "detail": _error_line(response)}


def _outcome(decision: dict[str, Any]) -> str:
    if decision["status"] == "APPROVED":
        return f"protected until {decision['deal']['protection_expires_on']}"
    if decision.get("conflicting_deal_id"):
        return f"{decision['reason']} with {decision['conflicting_deal_id']}"
    return str(decision.get("reason") or "")


REGISTER_HELP = (
    "Register deals from FILE.json (one request object or a list) and print each decision.\n\n"
    "Requests are sent one at a time in file order, so an earlier request wins a conflict with"
    " a later one. A request has deal_id, partner_id, customer {name, country, domain?},"
    " products [{sku, quantity}], estimated_value, currency, expected_close_on, evidence"
    " {contact_email?, meeting_on?, proposal_ref?} and optional registered_on (default: today)."
    "\n\nExits with status 1 when any request was not approved."
)


@app.command(help=REGISTER_HELP)
def register(
    file: Annotated[Path, typer.Argument(help="JSON file: one deal request or a list of them")],
    as_json: JsonFlag = False,
) -> None:
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
    except ValueError as exc:
        fail(f"{file} is not valid JSON: {exc}")
    items = document if isinstance(document, list) else [document]
    if not items:
        fail(f"{file} holds an empty list: nothing to register")
    decisions: list[dict[str, Any]] = []
    with Progress(
        TextColumn("registering"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
        disable=as_json or len(items) < 2,
    ) as bar:
        task = bar.add_task("deals", total=len(items))
        for item in items:
            decisions.append(_decide(item))
            bar.advance(task)
    if as_json:
        typer.echo(json.dumps(decisions, indent=2))
    else:
        t = Table("deal_id", "decision", "outcome", "detail", title=f"deals from {file.name}")
        for d in decisions:
            style = STATUS_STYLE.get(d["status"], "")
            detail = "" if d["status"] == "APPROVED" else str(d.get("detail", ""))
            t.add_row(
                d.get("deal_id") or "-",
                f"[{style}]{d['status']}[/]",
                _outcome(d) if d["status"] != "FAILED" else "",
                detail,
            )
        console.print(t)
    refused = sum(d["status"] != "APPROVED" for d in decisions)
    if refused:
        fail(f"{refused} of {len(decisions)} deal registrations not approved")


def _flat(deal: dict[str, Any]) -> dict[str, object]:
    c, e = deal["customer"], deal["evidence"]
    rows: dict[str, object] = {
        "deal_id": deal["deal_id"],
        "status": deal["status"],
        "reason": deal["reason"],
        "detail": deal["detail"],
        "conflicting_deal_id": deal["conflicting_deal_id"],
        "partner_id": deal["partner_id"],
        "customer": f"{c['name']} ({c['country']})" + (f", {c['domain']}" if c["domain"] else ""),
        "customer_key": deal["customer_key"],
        "products": ", ".join(f"{p['sku']} x{p['quantity']}" for p in deal["products"]),
        "estimated_value": f"{deal['estimated_value']} {deal['currency']}",
        "expected_close_on": deal["expected_close_on"],
        "evidence": ", ".join(f"{k}={v}" for k, v in e.items() if v is not None),
        "registered_on": deal["registered_on"],
        "protection_expires_on": deal["protection_expires_on"],
        "decided_at": deal["decided_at"],
    }
    return {k: "-" if v in (None, "") else v for k, v in rows.items()}


@app.command()
def show(
    deal_id: Annotated[str, typer.Argument(help="the deal_id given at registration")],
    as_json: JsonFlag = False,
) -> None:
    """Show one deal decision: status, reason, customer, products and protection window."""
    response = request("dealreg", "GET", f"/deals/{quote(deal_id, safe='')}")
    if response.status_code == 404:
        fail(f"deal {deal_id} not found")
    if response.status_code != 200:
        fail(_error_line(response))
    deal = response.json()
    if as_json:
        typer.echo(json.dumps(deal, indent=2))
    else:
        table(f"deal {deal_id}", _flat(deal))


@app.command("list")
def list_(
    partner: Annotated[str | None, typer.Option("--partner", help="partner_id")] = None,
    customer: Annotated[
        str | None,
        typer.Option(
            "--customer",
            help="customer name (normalized: 'ACME, Inc.' finds 'Acme "
            "Inc' and 'Acme Widgets LLC') or domain",
        ),
    ] = None,
    status: Annotated[str | None, typer.Option(help="APPROVED or REJECTED")] = None,
    limit: Annotated[int, typer.Option(help="at most this many (1-1000)")] = 100,
    as_json: JsonFlag = False,
) -> None:
    """List deal decisions, newest registration first, by partner and/or customer."""
    params = {"partner_id": partner, "customer": customer, "status": status, "limit": limit}
    response = request(
        "dealreg", "GET", "/deals", params={k: v for k, v in params.items() if v is not None}
    )
    if response.status_code != 200:
        fail(_error_line(response))
    deals = response.json()["deals"]
    if as_json:
        typer.echo(json.dumps(deals, indent=2))
        return
    t = Table(
        "deal_id",
        "partner",
        "customer",
        "status",
        "outcome",
        "registered",
        "value",
        title=f"{len(deals)} deal(s)",
    )
    for d in deals:
        c = d["customer"]
        outcome = (
            f"until {d['protection_expires_on']}" if d["status"] == "APPROVED" else str(d["reason"])
        )
        t.add_row(
            d["deal_id"],
            d["partner_id"],
            f"{c['name']} ({c['country']})",
            f"[{STATUS_STYLE[d['status']]}]{d['status']}[/]",
            outcome,
            d["registered_on"],
            f"{d['estimated_value']} {d['currency']}",
        )
    console.print(t)
