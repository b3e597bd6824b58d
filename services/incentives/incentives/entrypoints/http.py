"""HTTP views: rebate statements (JSON or CSV), single accruals, the ledger, unpaid lines."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from functools import wraps
from typing import Any

import faust
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from incentives.adapters.queries import ReadModel, to_accrual
from incentives.domain.model import Reason
from incentives.domain.programs import Program
from incentives.domain.statement import Statement, Total, build_statement

PERIOD = re.compile(r"^[0-9]{4}-Q[1-4]$")
MAX_LIMIT = 5000
CSV_COLUMNS = (
    "accrual_id", "partner_id", "period", "program_id", "program_version", "reason", "sold_on",
    "deal_id", "basis_amount", "rate", "amount", "currency", "line_event_id", "source_event_id",
)  # fmt: skip


class BadRequest(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def error(web: Any, status: int, code: str, detail: str) -> Any:
    return web.json({"error": {"code": code, "detail": detail}}, status=status)


def plain(value: Any) -> Any:
    """JSON-ready: money and rates as exact decimal strings, dates as ISO 8601."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def guarded(view: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Coded errors instead of stack traces: bad parameters 400/404, database down 503."""

    @wraps(view)
    async def run(web: Any, request: Any, **kwargs: Any) -> Any:
        try:
            return await view(web, request, **kwargs)
        except BadRequest as exc:
            return error(web, exc.status, exc.code, exc.detail)
        except (OperationalError, InterfaceError, DBAPIError, OSError) as exc:
            return error(web, 503, "DATABASE_UNAVAILABLE", type(exc).__name__)

    return run


def _period(value: str | None, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if value is None or not PERIOD.match(value):
        raise BadRequest(400, "INVALID_PERIOD", f"period must look like 2026-Q4, got {value!r}")
    return value


def _int(request: Any, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(400, "INVALID_PARAMETER", f"{name} must be an integer") from None
    if not low <= value <= high:
        raise BadRequest(400, "INVALID_PARAMETER", f"{name} must be in [{low}, {high}]")
    return value


def _wants_csv(request: Any) -> bool:
    fmt = request.query.get("format")
    if fmt not in (None, "json", "csv"):
        raise BadRequest(400, "INVALID_FORMAT", f"format must be json or csv, got {fmt!r}")
    return fmt == "csv" or (fmt is None and "text/csv" in request.headers.get("Accept", ""))


def _ledger_filters(request: Any) -> dict[str, str | None]:
    q = request.query
    reason = q.get("reason")
    if reason is not None and reason not in Reason.__members__:
        raise BadRequest(400, "INVALID_REASON", f"reason must be one of {list(Reason.__members__)}")
    return {
        "partner_id": q.get("partner_id") or None,
        "period": _period(q.get("period") or None, required=False),
        "program_id": q.get("program_id") or None,
        "reason": reason,
    }


def total_json(total: Total) -> dict[str, Any]:
    return plain({**total.__dict__, "reason": total.reason.value})


def statement_json(s: Statement, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return plain(
        {
            "partner_id": s.partner_id,
            "period": s.period,
            "currency": s.currency,
            "total": s.total,
            "totals_by_currency": s.totals_by_currency,
            "programs": [
                {
                    "program_id": p.program_id,
                    "program_version": p.program_version,
                    "currency": p.currency,
                    "totals_by_reason": {r.value: a for r, a in p.by_reason.items()},
                    "total": p.total,
                    "accruals": p.accruals,
                }
                for p in s.programs
            ],
            "line_count": len(rows),
            "lines": rows,
        }
    )


def statement_csv(s: Statement, rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([plain(row[c]) if row[c] is not None else "" for c in CSV_COLUMNS])
    for currency, amount in s.totals_by_currency.items():
        total = {"partner_id": s.partner_id, "period": s.period, "reason": "TOTAL"}
        total |= {"amount": format(amount, "f"), "currency": currency}
        writer.writerow([total.get(c, "") for c in CSV_COLUMNS])
    return out.getvalue()


def register_routes(app: faust.App, reads: ReadModel, programs: tuple[Program, ...]) -> None:
    @app.page("/statements/{partner_id}/{period}")
    @guarded
    async def statement(web: Any, request: Any, partner_id: str, period: str) -> Any:
        period = _period(period) or ""
        as_csv = _wants_csv(request)
        rows, totals = await reads.statement(partner_id, period)
        if not rows and not totals and not await reads.partner_known(partner_id):
            raise BadRequest(
                404, "UNKNOWN_PARTNER", f"no accruals and no enrolment for partner {partner_id}"
            )
        s = build_statement(partner_id, period, [to_accrual(r) for r in rows], totals)
        if as_csv:
            name = f"statement-{partner_id}-{period}.csv"
            return web.text(
                statement_csv(s, rows),
                content_type="text/csv",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        return web.json(statement_json(s, rows))

    @app.page("/accruals/{accrual_id}")
    @guarded
    async def accrual(web: Any, request: Any, accrual_id: str) -> Any:
        row = await reads.accrual(accrual_id)
        if row is None:
            raise BadRequest(404, "ACCRUAL_NOT_FOUND", f"no accrual {accrual_id}")
        return web.json(plain(row))

    @app.page("/ledger")
    @guarded
    async def ledger(web: Any, request: Any) -> Any:
        filters = _ledger_filters(request)
        limit = _int(request, "limit", 1000, 1, MAX_LIMIT)
        offset = _int(request, "offset", 0, 0, 2**62)
        page = await reads.ledger(**filters, limit=limit, offset=offset)
        following = offset + len(page.rows)
        return web.json(
            {
                "count": page.count,
                "offset": offset,
                "limit": limit,
                "next_offset": following if following < page.count else None,
                "accruals": plain(page.rows),
                "totals": [total_json(tot) for tot in page.totals],
            }
        )

    @app.page("/totals")
    @guarded
    async def totals(web: Any, request: Any) -> Any:
        """The ledger's sums alone (what /ledger also returns), without reading the ledger."""
        filters = _ledger_filters(request)
        return web.json({"totals": [total_json(tot) for tot in await reads.totals(**filters)]})

    @app.page("/not-accrued")
    @guarded
    async def not_accrued(web: Any, request: Any) -> Any:
        q = request.query
        found = await reads.not_accrued(
            q.get("partner_id") or None, _period(q.get("period") or None, required=False)
        )
        return web.json(plain(found))

    @app.page("/programs")
    @guarded
    async def program_list(web: Any, request: Any) -> Any:
        return web.json({"programs": [program_json(p) for p in programs]})


def program_json(p: Program) -> dict[str, Any]:
    def table(tab: Any) -> list[dict[str, Any]]:
        return [{"from": plain(lo), "rate": plain(rate)} for lo, rate in tab.brackets]

    out: dict[str, Any] = {
        "program_id": p.program_id,
        "version": p.version,
        "name": p.name,
        "currency": p.currency,
        "period": "calendar-quarter",
        "valid_from": p.valid_from,
        "valid_to": p.valid_to,
    }
    if p.volume:
        out["distributor_volume_rebate"] = {
            "retroactive": True,
            "rates": table(p.volume.default) if p.volume.default else None,
            "rates_by_tier": {k: table(v) for k, v in p.volume.by_tier.items()},
            "product_lines": sorted(p.volume.product_lines) if p.volume.product_lines else None,
        }
    if p.bonus:
        out["deal_registration_bonus"] = {
            "rate": plain(p.bonus.default),
            "rate_by_tier": plain(dict(p.bonus.by_tier)),
            "product_lines": sorted(p.bonus.product_lines) if p.bonus.product_lines else None,
        }
    return out
