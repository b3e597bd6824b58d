"""Read side: per-report and per-upload status, shipments, partners, the inventory view."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import Any

from channelstream_common.db import reading
from sqlalchemy.ext.asyncio import AsyncEngine

from sellthrough.adapters import inventory as inv
from sellthrough.adapters import repository as repo
from sellthrough.domain.inventory import InventoryRow, inventory_row
from sellthrough.service_layer.partners import PartnerBook


class Queries:
    def __init__(self, engine: AsyncEngine, partners: PartnerBook) -> None:
        self.engine = engine
        self.partners = partners

    async def report(self, report_id: str) -> dict[str, Any] | None:
        async with reading(self.engine) as conn:
            rows = await repo.report_lines(conn, report_id)
        if not rows:
            return None
        counts = Counter(r.status for r in rows)
        reasons = Counter(r.reason for r in rows if r.status == "rejected")
        return {
            "report_id": report_id,
            "accepted": counts["accepted"],
            "rejected": counts["rejected"],
            "held": counts["held"],
            "reasons": dict(sorted(reasons.items())),
            "lines": [{"line_no": r.line_no, "status": r.status, "reason": r.reason} for r in rows],
        }

    async def upload(self, upload_id: str) -> dict[str, Any] | None:
        async with reading(self.engine) as conn:
            return await repo.upload_status(conn, upload_id)

    async def shipment(self, shipment_id: str) -> dict[str, Any] | None:
        async with reading(self.engine) as conn:
            row = await repo.shipment_line(conn, shipment_id)
        return None if row is None else row._asdict()

    async def partner(self, partner_id: str) -> dict[str, Any] | None:
        """From the validation cache (what decisions use), else the partners table."""
        known = self.partners.known.get(partner_id)
        if known is not None:
            return asdict(known)
        async with reading(self.engine) as conn:
            row = await repo.partner(conn, partner_id)
        return None if row is None else row._asdict()

    async def inventory(self, distributor_id: str | None = None) -> list[InventoryRow]:
        async with reading(self.engine) as conn:
            rows = await inv.positions(conn, distributor_id)
        return [
            inventory_row(
                r.distributor_id,
                r.sku,
                r.sell_in_units,
                r.sell_through_units,
                r.as_of,
                int(r.units_in_window),
            )
            for r in rows
        ]
