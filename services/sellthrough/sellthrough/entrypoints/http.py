"""HTTP: upload report and shipment files, per-report/upload/shipment status, the inventory view."""

from __future__ import annotations

import csv
import functools
import io
import logging
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any

import faust
from faust.web import Request, Response, View
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from sellthrough.domain.inventory import COLUMNS, InventoryRow
from sellthrough.service_layer.flavors import SALES, SHIPMENTS, Flavor
from sellthrough.service_layer.queries import Queries
from sellthrough.service_layer.submissions import CLI, HTTP
from sellthrough.service_layer.uploads import CSV, NDJSON, BadUpload, Overloaded, Uploads

log = logging.getLogger(__name__)

FORMATS = {
    "text/csv": CSV,
    "application/x-ndjson": NDJSON,
    "application/jsonl": NDJSON,
    "application/x-jsonlines": NDJSON,
}
CHUNK = 64 * 1024
MAX_SUBMITTER = 200

Handler = Callable[..., Awaitable[Response]]


POOL_RETRY_AFTER = 1  # seconds


def error(
    view: View, status: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> Response:
    return view.json({"error": {"code": code, "detail": detail}}, status=status, headers=headers)


def overloaded(view: View, detail: str, retry_after: int) -> Response:
    """503 OVERLOADED: nothing was recorded, the same request may be sent again later."""
    return error(view, 503, "OVERLOADED", detail, {"Retry-After": str(retry_after)})


def guarded(fun: Handler) -> Handler:
    """Every failure leaves as a coded JSON error, never as a bare 500 page."""

    @functools.wraps(fun)
    async def inner(view: View, request: Request, **kwargs: Any) -> Response:
        try:
            return await fun(view, request, **kwargs)
        except BadUpload as exc:
            return error(view, 400, exc.code, exc.detail)
        except Overloaded as exc:
            log.info("upload refused: %s", exc.detail)
            return overloaded(view, exc.detail, exc.retry_after)
        except PoolTimeout as exc:  # every pooled connection busy: overload, not an outage
            log.warning("no database connection free: %s", exc)
            return overloaded(view, "no database connection free, retry later", POOL_RETRY_AFTER)
        except (OperationalError, InterfaceError) as exc:
            log.warning("database unavailable: %s", exc)
            return error(view, 503, "UNAVAILABLE", "database unavailable, retry later")
        except Exception as exc:
            log.exception("unexpected error in %s", fun.__name__)
            return error(view, 500, "INTERNAL", type(exc).__name__)

    return inner


def plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def inventory_json(row: InventoryRow) -> dict[str, Any]:
    return {c: plain(getattr(row, c)) for c in COLUMNS}


def inventory_csv(rows: list[InventoryRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        values = [plain(getattr(row, c)) for c in COLUMNS]
        writer.writerow(
            ["" if v is None else str(v).lower() if isinstance(v, bool) else v for v in values]
        )
    return out.getvalue()


def register_views(app: faust.App, uploads: Uploads, queries: Queries) -> None:
    async def upload(view: View, request: Request, flavor: Flavor) -> Response:
        raw: Any = request
        fmt = FORMATS.get(raw.content_type)
        if fmt is None:
            return error(
                view,
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                f"send text/csv or application/x-ndjson, not {raw.content_type!r}",
            )
        path = raw.headers.get("X-Ingestion-Path", HTTP).strip().upper()
        if path not in (HTTP, CLI):
            return error(view, 400, "BAD_INGESTION_PATH", "X-Ingestion-Path must be HTTP or CLI")
        submitted_by = raw.headers.get("X-Submitted-By", "").strip() or "anonymous"
        if len(submitted_by) > MAX_SUBMITTER:
            detail = f"X-Submitted-By is longer than {MAX_SUBMITTER} characters"
            return error(view, 400, "BAD_SUBMITTER", detail)
        result = await uploads.ingest(
            flavor,
            fmt,
            raw.content.iter_chunked(CHUNK),
            ingestion_path=path,
            submitted_by=submitted_by,
        )
        return view.json({"upload_id": result.upload_id, **result.tally.as_json()})

    @app.page("/reports")
    class Reports(View):
        @guarded
        async def post(self, request: Request) -> Response:
            """A sell-through report file: text/csv with the exact header, or JSON lines."""
            return await upload(self, request, SALES)

    @app.page("/shipments")
    class Shipments(View):
        @guarded
        async def post(self, request: Request) -> Response:
            """A sell-in shipments file: text/csv with the exact header, or JSON lines."""
            return await upload(self, request, SHIPMENTS)

    @app.page("/reports/{report_id}")
    class Report(View):
        @guarded
        async def get(self, request: Request, report_id: str) -> Response:
            found = await queries.report(report_id)
            if found is None:
                return error(self, 404, "REPORT_NOT_FOUND", f"no lines of report {report_id}")
            return self.json(found)

    @app.page("/uploads/{upload_id}")
    class Upload(View):
        @guarded
        async def get(self, request: Request, upload_id: str) -> Response:
            found = await queries.upload(upload_id)
            if found is None:
                return error(self, 404, "UPLOAD_NOT_FOUND", f"no upload {upload_id}")
            return self.json(found)

    @app.page("/shipments/{shipment_id}")
    class Shipment(View):
        @guarded
        async def get(self, request: Request, shipment_id: str) -> Response:
            found = await queries.shipment(shipment_id)
            if found is None:
                return error(self, 404, "SHIPMENT_NOT_FOUND", f"no shipment {shipment_id}")
            return self.json(found)

    @app.page("/partners/{partner_id}")
    class KnownPartner(View):
        @guarded
        async def get(self, request: Request, partner_id: str) -> Response:
            """A partner as sellthrough knows it (from PartnerEnrolled)."""
            found = await queries.partner(partner_id)
            if found is None:
                return error(self, 404, "PARTNER_NOT_FOUND", f"{partner_id} is not known here")
            return self.json({k: plain(v) for k, v in found.items()})

    @app.page("/inventory")
    class Inventory(View):
        @guarded
        async def get(self, request: Request) -> Response:
            """Channel inventory per distributor x SKU; CSV with ?format=csv or Accept: text/csv."""
            raw: Any = request
            fmt = raw.query.get("format", "").lower()
            if fmt not in ("", "json", "csv"):
                return error(self, 400, "BAD_FORMAT", "format must be json or csv")
            wants_csv = fmt == "csv" or (not fmt and "text/csv" in raw.headers.get("Accept", ""))
            distributor_id = raw.query.get("distributor_id", "").strip() or None
            rows = await queries.inventory(distributor_id)
            if wants_csv:
                return self.text(inventory_csv(rows), content_type="text/csv")
            return self.json(
                {"distributor_id": distributor_id, "rows": [inventory_json(r) for r in rows]}
            )
