"""`channelstream enrol partner|csv|list|show`: enrol partners and look them up (onboarding)."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import date
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

PARTNER_TYPES = "DISTRIBUTOR, RESELLER, VAR, MSP, SI, ISV, REFERRAL"
TIERS = "REGISTERED, SILVER, GOLD, PLATINUM"
STATUS_STYLE = {"enrolled": "green", "unchanged": "cyan", "rejected": "red"}


def _error_line(response: httpx.Response) -> str:
    try:
        err = response.json()["error"]
        return f"{err['code']}: {err['detail']}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}: {response.text[:200]}"


def _codes(values: list[str]) -> list[str]:
    """Territory options may repeat or hold lists: -t DE -t AT, -t DE,AT, -t 'DE;AT'."""
    return [p.strip() for v in values for p in v.replace(";", ",").split(",") if p.strip()]


def _partner_rows(partner: dict[str, Any]) -> dict[str, object]:
    return {
        k: ", ".join(v) if isinstance(v, list) else ("-" if v is None else v)
        for k, v in partner.items()
    }


@app.command()
def partner(
    partner_id: Annotated[str, typer.Option("--partner-id", help="[A-Z0-9-]{3,32}, unique")],
    legal_name: Annotated[str, typer.Option("--legal-name", help="registered company name")],
    partner_type: Annotated[str, typer.Option("--type", help=PARTNER_TYPES)],
    territory: Annotated[
        list[str],
        typer.Option("--territory", "-t", help="ISO 3166-1 alpha-2 code; repeat or comma-separate"),
    ],
    email: Annotated[str, typer.Option("--email", help="program contact e-mail")],
    tier: Annotated[str, typer.Option("--tier", help=TIERS)] = "REGISTERED",
    parent: Annotated[
        str | None, typer.Option("--parent", help="enrolled DISTRIBUTOR this partner buys through")
    ] = None,
    exclusive: Annotated[
        list[str] | None,
        typer.Option("--exclusive", "-x", help="territory held exclusively (distributors only)"),
    ] = None,
    enrolled_on: Annotated[
        str | None,
        typer.Option("--enrolled-on", help="YYYY-MM-DD it takes effect [default: today]"),
    ] = None,
) -> None:
    """Enrol one partner. Re-sending an identical enrolment is a no-op success."""
    body = {
        "partner_id": partner_id,
        "legal_name": legal_name,
        "partner_type": partner_type,
        "tier": tier,
        "parent_distributor_id": parent,
        "territories": _codes(territory),
        "exclusive_territories": _codes(exclusive or []),
        "enrolled_on": enrolled_on or date.today().isoformat(),
        "contact_email": email,
    }
    response = request("onboarding", "POST", "/partners", json=body)
    if response.status_code not in (200, 201):
        fail(_error_line(response))
    result = response.json()
    table(
        f"{result['partner']['partner_id']}: {result['status']}", _partner_rows(result["partner"])
    )


@dataclass
class BulkResult:
    rows: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, int] = field(
        default_factory=lambda: {"enrolled": 0, "unchanged": 0, "rejected": 0}
    )


def _chunks(path: Path, size: int) -> tuple[list[str], list[list[tuple[int, list[str]]]]]:
    """The header and the data records in chunks of (row number in the file, cells)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        fail(f"{path} is not UTF-8 text")
    try:
        records = list(csv.reader(io.StringIO(text), strict=True))
    except csv.Error as exc:
        fail(f"{path} is not readable CSV: {exc}")
    if not records:
        fail(f"{path} is empty")
    numbered = [(n, r) for n, r in enumerate(records[1:], start=2) if any(c.strip() for c in r)]
    return records[0], [numbered[i : i + size] for i in range(0, len(numbered), size)]


def _csv_text(header: list[str], rows: list[tuple[int, list[str]]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(cells for _, cells in rows)
    return out.getvalue()


def upload_csv(path: Path, chunk_rows: int = 500, show_progress: bool = True) -> BulkResult:
    """POST the file to /partners/bulk in chunks (in file order, so a row may name a parent
    enrolled earlier in the file); row numbers in the result are the file's own."""
    header, chunks = _chunks(path, chunk_rows)
    result = BulkResult()
    # one correlation id for the whole file, however many requests it takes
    headers = {"Content-Type": "text/csv", "X-Correlation-Id": f"enrol-csv-{uuid.uuid4()}"}
    total = sum(len(c) for c in chunks)
    with Progress(
        TextColumn("[bold]enrolling"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
        disable=not show_progress,
    ) as bar:
        task = bar.add_task("rows", total=total)
        for chunk in chunks or [[]]:
            response = request(
                "onboarding",
                "POST",
                "/partners/bulk",
                content=_csv_text(header, chunk).encode(),
                headers=headers,
            )
            if response.status_code != 200:
                done = len(result.rows)
                fail(f"{_error_line(response)} (after {done} of {total} rows)")
            body = response.json()
            for row in body["results"]:
                result.rows.append({**row, "row": chunk[row["row"] - 2][0]})
            for key in result.totals:
                result.totals[key] += body[key]
            bar.advance(task, len(chunk))
    return result


@app.command("csv")
def csv_(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="UTF-8 CSV with the header partner_id,legal_name,partner_type,tier,"
            "parent_distributor_id,territories,exclusive_territories,enrolled_on,contact_email "
            "(lists separated by ';')",
        ),
    ],
    only_rejected: Annotated[
        bool, typer.Option("--only-rejected", help="list only rejected rows; totals cover all")
    ] = False,
    chunk_rows: Annotated[int, typer.Option("--chunk-rows", min=1, help="rows per request")] = 500,
) -> None:
    """Enrol every valid row of a CSV file; rows may name a parent enrolled earlier in the file.
    Prints each row's result and the totals; exits 1 if any row was rejected."""
    result = upload_csv(file, chunk_rows)
    shown = [r for r in result.rows if r["status"] == "rejected" or not only_rejected]
    t = Table(title=f"enrol {file.name}")
    for name in ("row", "partner_id", "status", "code"):
        t.add_column(name, no_wrap=True)
    t.add_column("detail")
    for r in shown:
        style = STATUS_STYLE.get(r["status"], "")
        t.add_row(
            str(r["row"]),
            r["partner_id"],
            f"[{style}]{r['status']}[/]",
            r["code"] or "",
            r["detail"],
        )
    console.print(t)
    totals = result.totals
    console.print(
        f"{totals['enrolled']} enrolled, {totals['unchanged']} unchanged, "
        f"{totals['rejected']} rejected"
    )
    if totals["rejected"]:
        raise typer.Exit(1)


@app.command("list")
def list_(
    partner_type: Annotated[str | None, typer.Option("--type", help=PARTNER_TYPES)] = None,
    tier: Annotated[str | None, typer.Option("--tier", help=TIERS)] = None,
    parent: Annotated[
        str | None, typer.Option("--parent", help="only partners of this distributor")
    ] = None,
    territory: Annotated[
        str | None, typer.Option("--territory", help="only partners selling in this territory")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=5000)] = 500,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
) -> None:
    """List enrolled partners (from the partner directory), ordered by id."""
    params = {
        "partner_type": partner_type,
        "tier": tier,
        "parent_distributor_id": parent,
        "territory": territory,
        "limit": str(limit),
        "offset": str(offset),
    }
    response = request(
        "onboarding", "GET", "/partners", params={k: v for k, v in params.items() if v}
    )
    if response.status_code != 200:
        fail(_error_line(response))
    body = response.json()
    t = Table(title="partners", caption=f"{body['count']} shown of {body['total']}")
    for name in ("partner_id", "legal_name", "type", "tier", "parent"):
        t.add_column(name, no_wrap=name != "legal_name")
    for name in ("territories", "exclusive", "enrolled_on"):
        t.add_column(name, no_wrap=name == "enrolled_on")
    for p in body["partners"]:
        t.add_row(
            p["partner_id"],
            p["legal_name"],
            p["partner_type"],
            p["tier"],
            p["parent_distributor_id"] or "-",
            ",".join(p["territories"]),
            ",".join(p["exclusive_territories"]) or "-",
            p["enrolled_on"],
        )
    console.print(t)


@app.command()
def show(partner_id: Annotated[str, typer.Argument(help="the partner's id")]) -> None:
    """Show one enrolled partner."""
    response = request("onboarding", "GET", f"/partners/{quote(partner_id, safe='')}")
    if response.status_code != 200:
        fail(_error_line(response))
    table(partner_id, _partner_rows(response.json()))
