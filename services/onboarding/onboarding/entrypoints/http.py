"""HTTP: enrol one partner (JSON) or many (CSV); list and show partners from the directory."""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime
from typing import Any

import faust
from faust.web import Request, Response, View
from sqlalchemy.exc import InterfaceError, OperationalError

from onboarding.adapters.repository import DirectoryQuery
from onboarding.domain import validation
from onboarding.domain.csv_format import BadCsv, BadHeader, parse_csv
from onboarding.domain.model import Code, Partner, PartnerType, Status, Tier
from onboarding.service_layer.directory import Directory
from onboarding.service_layer.enrolments import Contended, Enrolments, Result

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024 * 1024
MAX_ROWS = 20_000
MAX_PAGE = 5000
REFUSAL_STATUS = {
    Code.INVALID_FIELD: 422,
    Code.INVALID_ROW: 422,
    Code.PARTNER_EXISTS: 409,
    Code.EXCLUSIVE_TERRITORY_TAKEN: 409,
    Code.UNKNOWN_PARENT: 422,
    Code.PARENT_NOT_DISTRIBUTOR: 422,
    Code.DISTRIBUTOR_HAS_PARENT: 422,
}


class HttpError(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def error(view: View, status: int, code: str, detail: str) -> Response:
    return view.json({"error": {"code": code, "detail": detail}}, status=status)


Handler = Callable[..., Awaitable[Response]]


def guarded(fun: Handler) -> Handler:
    """Every failure leaves as a coded JSON error, never as a bare 500 page."""

    @functools.wraps(fun)
    async def inner(view: View, request: Request, **kwargs: Any) -> Response:
        try:
            return await fun(view, request, **kwargs)
        except HttpError as exc:
            return error(view, exc.status, exc.code, exc.detail)
        except Contended as exc:
            return error(view, 503, "CONTENDED", str(exc))
        except (OperationalError, InterfaceError) as exc:
            log.warning("database unavailable: %s", exc)
            return error(view, 503, "UNAVAILABLE", "database unavailable, retry later")
        except Exception as exc:
            log.exception("unexpected error in %s", fun.__name__)
            return error(view, 500, "INTERNAL", f"{type(exc).__name__}")

    return inner


def plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def partner_json(partner: Partner, event_id: str | None) -> dict[str, Any]:
    body = {k: plain(v) for k, v in vars(partner).items()}
    return {**body, "event_id": event_id}


def correlation_id(request: Request) -> str:
    given = request.headers.get("X-Correlation-Id", "").strip()
    return given if 0 < len(given) <= 128 else str(uuid.uuid4())


async def body_of(view: View, request: Request) -> bytes:
    length = request.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > MAX_BODY:
        raise HttpError(413, "PAYLOAD_TOO_LARGE", f"body exceeds {MAX_BODY} bytes")
    body = await view.read_request_content(request)
    if len(body) > MAX_BODY:
        raise HttpError(413, "PAYLOAD_TOO_LARGE", f"body exceeds {MAX_BODY} bytes")
    return body


def row_json(number: int, result: Result) -> dict[str, Any]:
    o = result.outcome
    return {
        "row": number,
        "partner_id": o.partner_id,
        "status": o.status.value,
        "code": o.code.value if o.code else None,
        "detail": o.detail,
    }


def directory_query(params: Mapping[str, str]) -> DirectoryQuery:
    problems: list[str] = []

    def field(name: str, parse: Callable[[Any], Any]) -> Any:
        value = params.get(name, "").strip()
        if not value:
            return None
        try:
            return parse(value)
        except validation.Invalid as exc:
            problems.append(f"{name}: {exc}")
            return None

    def bounded(name: str, default: int, low: int, high: int) -> int:
        value = params.get(name, "").strip()
        if not value:
            return default
        if not value.isdigit() or not low <= int(value) <= high:
            problems.append(f"{name}: must be an integer from {low} to {high}")
            return default
        return int(value)

    query = DirectoryQuery(
        partner_type=field("partner_type", validation.choice(PartnerType)),
        tier=field("tier", validation.choice(Tier)),
        parent_distributor_id=field("parent_distributor_id", validation.partner_id),
        territory=field("territory", validation.country),
        limit=bounded("limit", 500, 1, MAX_PAGE),
        offset=bounded("offset", 0, 0, 10**9),
    )
    if problems:
        raise HttpError(422, Code.INVALID_FIELD.value, "; ".join(problems))
    return query


def register_views(app: faust.App, enrolments: Enrolments, directory: Directory) -> None:
    # /partners/bulk before /partners/{partner_id}, so "bulk" is never taken for an id.
    @app.page("/partners/bulk")
    class BulkEnrolment(View):
        @guarded
        async def post(self, request: Request) -> Response:
            """text/csv with the exact header; per-row results, valid rows enrolled."""
            try:
                text = (await body_of(self, request)).decode("utf-8")
            except UnicodeDecodeError:
                return error(self, 400, "BAD_ENCODING", "the CSV must be UTF-8")
            try:
                rows = parse_csv(text)
            except BadHeader as exc:
                return error(self, 400, "BAD_HEADER", str(exc))
            except BadCsv as exc:
                return error(self, 400, "BAD_CSV", str(exc))
            if len(rows) > MAX_ROWS:
                return error(
                    self, 413, "TOO_MANY_ROWS", f"{len(rows)} rows; at most {MAX_ROWS} per file"
                )
            results = await enrolments.enrol(
                [r.request for r in rows], correlation_id=correlation_id(request)
            )
            counts = {s.value: 0 for s in Status}
            for result in results:
                counts[result.outcome.status.value] += 1
            body = [row_json(r.number, res) for r, res in zip(rows, results, strict=True)]
            return self.json({"results": body, **counts})

    @app.page("/partners")
    class Partners(View):
        @guarded
        async def get(self, request: Request) -> Response:
            query = directory_query(request.query)  # type: ignore[attr-defined]
            rows, total = await directory.list(query)
            return self.json(
                {
                    "partners": [{k: plain(v) for k, v in r.items()} for r in rows],
                    "count": len(rows),
                    "total": total,
                    "limit": query.limit,
                    "offset": query.offset,
                }
            )

        @guarded
        async def post(self, request: Request) -> Response:
            """One enrolment as a JSON object."""
            try:
                raw = json.loads(await body_of(self, request))
            except (ValueError, UnicodeDecodeError):
                return error(self, 400, "INVALID_JSON", "the body is not valid JSON")
            if not isinstance(raw, dict):
                return error(self, 400, "INVALID_JSON", "the body must be a JSON object")
            [result] = await enrolments.enrol(
                [validation.parse_partner(raw)], correlation_id=correlation_id(request)
            )
            o = result.outcome
            if o.status is Status.REJECTED:
                assert o.code is not None
                return error(self, REFUSAL_STATUS[o.code], o.code.value, o.detail)
            assert o.partner is not None
            return self.json(
                {"status": o.status.value, "partner": partner_json(o.partner, result.event_id)},
                status=201 if o.status is Status.ENROLLED else 200,
            )

    @app.page("/partners/{partner_id}")
    class PartnerById(View):
        @guarded
        async def get(self, request: Request, partner_id: str) -> Response:
            found = await directory.get(partner_id)
            if found is None:
                return error(self, 404, "PARTNER_NOT_FOUND", f"no enrolled partner {partner_id}")
            return self.json({k: plain(v) for k, v in found.items()})
