"""HTTP: scorecards (JSON or CSV), inventory positions, and the QBR package (HTML or JSON)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import faust
from faust.web import Request, Response, View
from sqlalchemy.exc import InterfaceError, OperationalError

from analytics.domain.scorecard import ALL_METRICS, IDENTITY, metrics_of
from analytics.entrypoints import qbr_html
from analytics.entrypoints.render import jsonable, to_csv
from analytics.service_layer.queries import Analytics, AnalyticsError, parse_quarter

log = logging.getLogger(__name__)

Handler = Callable[..., Awaitable[Response]]
POSITION_COLUMNS = (
    "distributor_id",
    "sku",
    "sell_in_units",
    "sell_through_units",
    "on_hand",
    "units_in_window",
    "as_of",
    "avg_weekly_units",
    "weeks_of_supply",
    "loading_flag",
)


def error(view: View, status: int, code: str, detail: str) -> Response:
    return view.json({"error": {"code": code, "detail": detail}}, status=status)


def guarded(fun: Handler) -> Handler:
    """Every failure leaves as a coded JSON error, never as a bare 500 page."""

    @functools.wraps(fun)
    async def inner(view: View, request: Request, **kwargs: Any) -> Response:
        try:
            return await fun(view, request, **kwargs)
        except AnalyticsError as exc:
            return error(view, exc.status, exc.code, exc.detail)
        except (OperationalError, InterfaceError) as exc:
            log.warning("database unavailable: %s", exc)
            return error(view, 503, "UNAVAILABLE", "database unavailable, retry later")
        except Exception as exc:
            log.exception("unexpected error in %s", fun.__name__)
            return error(view, 500, "INTERNAL", type(exc).__name__)

    return inner


def wants_csv(request: Request) -> bool:
    """`?format=csv|json` wins; otherwise an Accept header naming text/csv."""
    chosen = request.query.get("format")
    if chosen is not None:
        if chosen not in ("csv", "json"):
            raise AnalyticsError(400, "INVALID_FORMAT", "format must be csv or json")
        return chosen == "csv"
    return "text/csv" in request.headers.get("Accept", "")


def csv_response(view: View, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> Response:
    return view.text(to_csv(rows, columns), content_type="text/csv")


def register_views(app: faust.App, analytics: Analytics) -> None:
    @app.page("/scorecards/{partner_id}/{quarter}")
    @guarded
    async def scorecard(view: View, request: Request, partner_id: str, quarter: str) -> Response:
        card = await analytics.scorecard(partner_id, quarter)
        if wants_csv(request):
            return csv_response(view, [card], list(card))
        return view.json(jsonable(card))

    @app.page("/scorecards")
    @guarded
    async def scorecards(view: View, request: Request) -> Response:
        kind = request.query.get("partner_type") or None
        quarter = str(parse_quarter(request.query.get("quarter")))
        cards = await analytics.scorecards(quarter, kind)
        if wants_csv(request):
            metrics = metrics_of(kind) if kind else ALL_METRICS
            return csv_response(view, cards, IDENTITY + metrics)
        return view.json(jsonable({"quarter": quarter, "partner_type": kind, "scorecards": cards}))

    @app.page("/inventory-positions")
    @guarded
    async def inventory_positions(view: View, request: Request) -> Response:
        distributor_id = request.query.get("distributor_id") or None
        rows = await analytics.inventory(distributor_id)
        if wants_csv(request):
            return csv_response(view, rows, POSITION_COLUMNS)
        return view.json(jsonable({"distributor_id": distributor_id, "positions": rows}))

    @app.page("/qbr/{distributor_id}/{quarter}")
    @guarded
    async def qbr(view: View, request: Request, distributor_id: str, quarter: str) -> Response:
        as_json = quarter.endswith(".json")
        data = await analytics.qbr(distributor_id, quarter.removesuffix(".json"))
        if as_json:
            return view.json(jsonable(data))
        return view.html(qbr_html.render(data))
