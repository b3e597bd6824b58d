"""HTTP: POST /deals (decide), GET /deals/{deal_id}, GET /deals?partner_id=&customer=,
GET /partners/{partner_id} (whether dealreg knows the partner yet)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any

import faust
from aiohttp.web import HTTPRequestEntityTooLarge
from faust.web import View
from sqlalchemy.exc import InterfaceError, OperationalError

from dealreg.adapters.repository import DealRepository
from dealreg.domain.model import DealRecord, Reason, Status
from dealreg.service_layer.queries import get_deal, get_partner, list_deals
from dealreg.service_layer.registration import Outcome, Registrar

log = logging.getLogger(__name__)
STATUS_BY_REASON = {
    Reason.INVALID_REQUEST: 422,
    Reason.CONFLICT: 409,
    Reason.DUPLICATE_DEAL_ID: 409,
}
MAX_LIMIT = 1000


def error(code: str, detail: str) -> dict[str, Any]:
    return {"error": {"code": code, "detail": detail}}


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def deal_json(record: DealRecord) -> dict[str, Any]:
    r, d = record.request, record.decision
    return {
        "deal_id": r.deal_id,
        "partner_id": r.partner_id,
        "status": d.status.value,
        "reason": d.reason.value if d.reason else None,
        "detail": d.detail,
        "conflicting_deal_id": d.conflicting_deal_id,
        "customer": {
            "name": r.customer.name,
            "country": r.customer.country,
            "domain": r.customer.domain,
        },
        "customer_key": r.customer.key,
        "products": [{"sku": p.sku, "quantity": p.quantity} for p in r.products],
        "estimated_value": str(r.estimated_value),
        "currency": r.currency,
        "expected_close_on": _iso(r.expected_close_on),
        "evidence": {
            "contact_email": r.evidence.contact_email,
            "meeting_on": _iso(r.evidence.meeting_on),
            "proposal_ref": r.evidence.proposal_ref,
        },
        "registered_on": _iso(r.registered_on),
        "protection_expires_on": _iso(d.protection_expires_on),
        "decided_at": _iso(record.decided_at),
    }


def outcome_json(outcome: Outcome) -> tuple[dict[str, Any], int]:
    d = outcome.decision
    if d.approved:
        assert outcome.deal is not None
        return {
            "status": "APPROVED",
            "deal_id": outcome.deal_id,
            "deal": deal_json(outcome.deal),
            "repeated": outcome.repeated,
        }, 200 if outcome.repeated else 201
    assert d.reason is not None
    body: dict[str, Any] = {
        "status": "REJECTED",
        "deal_id": outcome.deal_id,
        "reason": d.reason.value,
        "detail": d.detail,
        "conflicting_deal_id": d.conflicting_deal_id,
        "repeated": outcome.repeated,
    }
    if outcome.fields:
        body["fields"] = outcome.fields
    if outcome.deal is not None:
        body["deal"] = deal_json(outcome.deal)
    status = STATUS_BY_REASON.get(d.reason, 200)
    if status >= 400:
        body.update(error(d.reason.value, d.detail))
    return body, status


def _int(raw: str | None, default: int, name: str, low: int, high: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _status(raw: str | None) -> Status | None:
    if not raw:
        return None
    if raw.upper() not in Status.__members__:
        raise ValueError("status must be APPROVED or REJECTED")
    return Status(raw.upper())


def register_routes(app: faust.App, registrar: Registrar, repo: DealRepository) -> None:
    @app.page("/deals")
    class Deals(View):
        async def post(self, request: Any, **_: Any) -> Any:
            """Decide a registration; registered_on defaults to today's UTC date."""
            try:
                raw = await request.read()
            except HTTPRequestEntityTooLarge as exc:
                return self.json(error("PAYLOAD_TOO_LARGE", str(exc)), status=413)
            correlation = (request.headers.get("X-Correlation-Id") or "")[:200] or None
            try:
                outcome = await registrar.register(
                    raw.decode("utf-8", errors="replace"),
                    today=datetime.now(UTC).date(),
                    correlation_id=correlation,
                )
            except (OperationalError, InterfaceError) as exc:
                log.error("database unavailable: %s", exc)
                return self.json(error("UNAVAILABLE", "database unavailable; retry"), status=503)
            body, status = outcome_json(outcome)
            headers = {"Location": f"/deals/{outcome.deal_id}"} if outcome.deal else None
            return self.json(body, status=status, headers=headers)

        async def get(self, request: Any, **_: Any) -> Any:
            """List deals, newest registration first: partner_id, customer, country, status,
            limit (default 100, at most 1000), offset."""
            q = request.query
            try:
                status = _status(q.get("status"))
                limit = _int(q.get("limit"), 100, "limit", 1, MAX_LIMIT)
                offset = _int(q.get("offset"), 0, "offset", 0, 10**9)
            except ValueError as exc:
                return self.json(error("INVALID_QUERY", str(exc)), status=400)
            found = await list_deals(
                repo,
                partner_id=q.get("partner_id") or None,
                customer=q.get("customer") or None,
                country=q.get("country") or None,
                status=status,
                limit=limit,
                offset=offset,
            )
            deals = [deal_json(r) for r in found]
            return self.json(
                {"deals": deals, "count": len(deals), "limit": limit, "offset": offset}
            )

    @app.page("/deals/{deal_id}")
    async def deal(web: Any, request: Any, deal_id: str) -> Any:
        record = await get_deal(repo, deal_id)
        if record is None:
            return web.json(error("DEAL_NOT_FOUND", f"no deal {deal_id}"), status=404)
        return web.json(deal_json(record))

    @app.page("/partners/{partner_id}")
    async def partner(web: Any, request: Any, partner_id: str) -> Any:
        found = await get_partner(repo, partner_id)
        if found is None:
            return web.json(
                error("PARTNER_NOT_FOUND", f"{partner_id} is not known here"), status=404
            )
        return web.json({"partner_id": found.partner_id, "partner_type": found.partner_type})
