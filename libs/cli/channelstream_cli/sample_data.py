"""A realistic, deterministic sample dataset: distributors, resellers, deals, a quarter of sell-in
and sell-through with returns and bad lines. The same seed always writes the same files, so a
second demo run re-sends identical inputs (idempotent)."""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

QUARTER_START = date(2026, 7, 1)
QUARTER_END = date(2026, 9, 30)
PREVIOUS_START = date(2026, 4, 1)

PARTNER_HEADER = [
    "partner_id",
    "legal_name",
    "partner_type",
    "tier",
    "parent_distributor_id",
    "territories",
    "exclusive_territories",
    "enrolled_on",
    "contact_email",
]
REPORT_HEADER = [
    "report_id",
    "line_no",
    "distributor_id",
    "reseller_id",
    "sku",
    "quantity",
    "unit_price",
    "currency",
    "sold_on",
    "end_customer_name",
    "end_customer_country",
    "deal_id",
]
SHIPMENT_HEADER = [
    "shipment_id",
    "distributor_id",
    "sku",
    "quantity",
    "unit_cost",
    "currency",
    "shipped_on",
]

# (id, name, country, exclusive territories, monthly line count, price multiplier)
DISTRIBUTORS = [
    ("DIST-NA", "Northstar Distribution Inc", "US", ["US", "CA"], 140, Decimal("1.6")),
    ("DIST-EU", "Europa Tech Supply GmbH", "DE", ["DE", "AT"], 30, Decimal("1.3")),
    ("DIST-UK", "Albion Channel Ltd", "GB", ["GB", "IE"], 12, Decimal("1.0")),
]
RESELLER_TYPES = ["VAR", "MSP", "SI", "ISV", "RESELLER", "REFERRAL"]
TIERS = ["REGISTERED", "SILVER", "GOLD", "PLATINUM"]
CUSTOMERS = [
    "Acme Corp",
    "Globex LLC",
    "Initech Inc",
    "Umbrella SA",
    "Hooli Ltd",
    "Stark Industries",
    "Wayne Enterprises",
    "Tyrell GmbH",
    "Cyberdyne Systems",
    "Soylent Co",
    "Vandelay Industries",
    "Wonka Ltd",
]


@dataclass(frozen=True)
class Dataset:
    partners: Path
    deals: Path
    shipments: Path
    reports: list[Path]


def read_catalog(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def _partners() -> tuple[list[list[object]], dict[str, list[str]]]:
    rows: list[list[object]] = []
    resellers: dict[str, list[str]] = {}
    for did, name, _country, exclusive, _, _ in DISTRIBUTORS:
        rows.append(
            [
                did,
                name,
                "DISTRIBUTOR",
                "PLATINUM",
                "",
                ";".join(exclusive),
                ";".join(exclusive),
                "2025-01-15",
                f"channel@{did.lower()}.example.com",
            ]
        )
        resellers[did] = []
        for i in range(1, 13):
            rid = f"{did.split('-')[1]}-R{i:02d}"
            # most enrolled long ago; two new this quarter; the last two never sell (dark)
            enrolled = (
                QUARTER_START + timedelta(days=10 + i)
                if i in (5, 6)
                else date(2025, 3, 1) + timedelta(days=7 * i)
            )
            rows.append(
                [
                    rid,
                    f"Reseller {rid} Ltd",
                    RESELLER_TYPES[i % len(RESELLER_TYPES)],
                    TIERS[i % len(TIERS)],
                    did,
                    exclusive[0],
                    "",
                    enrolled.isoformat(),
                    f"sales@{rid.lower()}.example.com",
                ]
            )
            resellers[did].append(rid)
    # one bad row (unknown parent) to show per-row reasons
    rows.append(
        [
            "XX-R01",
            "Orphan Reseller",
            "VAR",
            "SILVER",
            "DIST-NOPE",
            "FR",
            "",
            "2025-06-01",
            "orphan@example.com",
        ]
    )
    return rows, resellers


def _deals(resellers: dict[str, list[str]]) -> list[dict[str, object]]:
    deals: list[dict[str, object]] = []
    n = 0
    for did, rids in resellers.items():
        country = next(d[2] for d in DISTRIBUTORS if d[0] == did)
        for rid in rids[:6]:
            n += 1
            deals.append(
                {
                    "deal_id": f"DEAL-{n:03d}",
                    "partner_id": rid,
                    "customer": {"name": CUSTOMERS[n % len(CUSTOMERS)], "country": country},
                    "products": [{"sku": "__SKU0__", "quantity": 10}],
                    "estimated_value": "25000.00",
                    "currency": "USD",
                    "expected_close_on": "2026-09-30",
                    "evidence": {"contact_email": f"buyer{n}@customer.example.com"},
                    "registered_on": (QUARTER_START + timedelta(days=n % 20)).isoformat(),
                }
            )
    first = deals[0]
    deals += [
        {
            **first,
            "deal_id": "DEAL-CONFLICT",
            "partner_id": deals[1]["partner_id"],
            "registered_on": "2026-07-25",
        },
        {**first, "deal_id": "DEAL-BY-DIST", "partner_id": "DIST-NA"},
        {
            **first,
            "deal_id": "DEAL-NO-EVIDENCE",
            "partner_id": deals[2]["partner_id"],
            "evidence": {},
        },
    ]
    return deals


def generate(out: Path, catalog_path: Path, seed: int = 2026) -> Dataset:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    catalog = read_catalog(catalog_path)
    skus = [c["sku"] for c in catalog]
    price = {c["sku"]: Decimal(c["list_price"]) for c in catalog}
    partner_rows, resellers = _partners()
    deals = _deals(resellers)
    for d in deals:
        d["products"] = [{"sku": skus[0], "quantity": 10}]

    shipments: list[list[object]] = []
    reports: list[Path] = []
    deal_of = {str(d["partner_id"]): str(d["deal_id"]) for d in deals[:18]}
    weights = [float(1 / price[s]) for s in skus]  # cheaper products sell more often
    for did, _, country, _, monthly, mult in DISTRIBUTORS:
        active = resellers[did][:10]  # the last two resellers never sell: dark partners
        sold: dict[str, int] = {}
        months = [(PREVIOUS_START, 3), *[(date(2026, m, 1), 1) for m in (7, 8, 9)]]
        for month_start, divisor in months:
            rows: list[list[object]] = []
            report_id = f"{did}-{month_start:%Y-%m}"
            for line_no in range(1, monthly // divisor + 1):
                rid = rng.choice(active)
                if rid.endswith(("R05", "R06")) and month_start < date(2026, 8, 1):
                    rid = active[0]  # new resellers sell only after they enrol
                sku = rng.choices(skus, weights=weights)[0]
                qty = int(rng.randint(1, 3) * mult)
                unit = (price[sku] * Decimal(rng.randint(80, 95)) / 100).quantize(Decimal("0.01"))
                day = month_start + timedelta(days=rng.randint(0, 27))
                deal = deal_of.get(rid, "") if rng.random() < 0.3 else ""
                rows.append(
                    [
                        report_id,
                        line_no,
                        did,
                        rid,
                        sku,
                        qty,
                        unit,
                        "USD",
                        day.isoformat(),
                        rng.choice(CUSTOMERS),
                        country,
                        deal,
                    ]
                )
                sold[sku] = sold.get(sku, 0) + qty
            if month_start >= QUARTER_START:
                rows += _bad_and_returns(
                    rng, report_id, len(rows), did, active, skus, price, month_start, country
                )
            reports.append(_write_csv(out / f"{report_id}.csv", REPORT_HEADER, rows))
        for i, sku in enumerate(skus):
            # the first SKU is over-shipped (inventory loading); others roughly match demand,
            # shipped half before the quarter and half early in it
            qty = sold.get(sku, 0) * (6 if i == 0 else 1) + 6
            cost = (price[sku] * Decimal("0.7")).quantize(Decimal("0.01"))
            for n, start in enumerate((PREVIOUS_START, QUARTER_START)):
                shipped = (start + timedelta(days=i)).isoformat()
                shipments.append(
                    [f"SHP-{did}-{i:03d}-{n}", did, sku, qty // 2, cost, "USD", shipped]
                )
    return Dataset(
        partners=_write_csv(out / "partners.csv", PARTNER_HEADER, partner_rows),
        deals=_write_json(out / "deals.json", deals),
        shipments=_write_csv(out / "shipments.csv", SHIPMENT_HEADER, shipments),
        reports=reports,
    )


def _bad_and_returns(
    rng: random.Random,
    report_id: str,
    n: int,
    did: str,
    active: list[str],
    skus: list[str],
    price: dict[str, Decimal],
    month: date,
    country: str,
) -> list[list[object]]:
    sku = skus[1]
    unit = (price[sku] * Decimal("0.9")).quantize(Decimal("0.01"))
    day = (month + timedelta(days=14)).isoformat()
    base = [did, active[1], sku]
    return [
        [report_id, n + 1, *base, -2, unit, "USD", day, "Acme Corp", country, ""],  # a return
        [report_id, n + 2, did, active[2], "NO-SUCH-SKU", 3, "10.00", "USD", day, "", "", ""],
        [report_id, n + 3, *base, 0, unit, "USD", day, "", "", ""],
        [report_id, n + 4, *base, 3, unit, "EUR", day, "", "", ""],
        [report_id, n + 5, *base, 3, unit, "USD", "2031-01-01", "", "", ""],
        [report_id, n + 6, *base, "three", unit, "USD", day, "", "", ""],
        [report_id, n + 7, *base, 3, "-5.00", "USD", day, "", "", ""],
    ]


def _write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, indent=2))
    return path
