"""A deterministic, realistic dataset: distributors and resellers (a few large distributors, a
long tail of resellers), deals registered by resellers, sell-in shipments and N sell-through
lines in report files per distributor and month, with returns, deal links (most sold inside the
protection window, some outside) and a small share of invalid lines. The same N and seed always
write byte-identical files; expected view totals are computed while the lines are written."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from bench.expected import DealWindow, Expected

CATALOG = Path(__file__).resolve().parents[1] / "services/sellthrough/sellthrough/data/catalog.csv"
REPORT_HEADER = (
    "report_id,line_no,distributor_id,reseller_id,sku,quantity,unit_price,currency,sold_on,"
    "end_customer_name,end_customer_country,deal_id"
)
SHIPMENT_HEADER = "shipment_id,distributor_id,sku,quantity,unit_cost,currency,shipped_on"
PARTNER_HEADER = (
    "partner_id,legal_name,partner_type,tier,parent_distributor_id,territories,"
    "exclusive_territories,enrolled_on,contact_email"
)
MONTHS = tuple(date(2026, m, 1) for m in range(4, 10))  # 2026-Q2 and 2026-Q3
PROTECTION_DAYS = 90  # dealreg's default window; the harness sets it explicitly
RESELLER_TYPES = ("RESELLER", "VAR", "MSP", "SI", "ISV", "REFERRAL")
TIERS = ("REGISTERED", "SILVER", "GOLD", "PLATINUM")
COUNTRIES = ("US", "CA", "GB", "DE", "FR", "NL")
CUSTOMERS = tuple(
    f"{a} {b}"
    for a in ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell")
    for b in ("Corp", "LLC", "Ltd", "GmbH", "SA")
)
PROBE_QUARTER = "2026-Q4"
PROBE_DAY = date(2026, 10, 15)


@dataclass(frozen=True)
class Product:
    sku: str
    list_price: Decimal
    weight: float


@dataclass(frozen=True)
class Deal:
    deal_id: str
    partner_id: str
    customer: str
    sku: str
    registered_on: date

    @property
    def window(self) -> DealWindow:
        return DealWindow(
            self.partner_id, self.registered_on, self.registered_on + timedelta(PROTECTION_DAYS)
        )

    def request(self) -> dict[str, object]:
        return {
            "deal_id": self.deal_id,
            "partner_id": self.partner_id,
            "customer": {"name": self.customer, "country": "US"},
            "products": [{"sku": self.sku, "quantity": 20}],
            "estimated_value": "50000.00",
            "currency": "USD",
            "expected_close_on": (self.registered_on + timedelta(60)).isoformat(),
            "evidence": {"contact_email": f"buyer@{self.deal_id.lower()}.example.com"},
            "registered_on": self.registered_on.isoformat(),
        }


@dataclass
class Dataset:
    root: Path
    distributors: list[str]
    resellers: list[str]
    probes: list[str]
    deals: list[Deal]
    partners_csv: Path
    shipments: Path
    reports: list[Path] = field(default_factory=list)
    expected: Expected = field(default_factory=Expected)

    @property
    def partner_ids(self) -> list[str]:
        return self.distributors + self.resellers + self.probes


def catalog() -> list[Product]:
    with CATALOG.open(newline="") as f:
        rows = list(csv.DictReader(f))
    # cheap items sell more often than data-centre gear
    return [
        Product(r["sku"], Decimal(r["list_price"]), 1.0 / float(Decimal(r["list_price"])) ** 0.5)
        for r in rows
    ]


def sizes(lines: int) -> tuple[int, int, int]:
    """(distributors, resellers, deals) for a dataset of `lines` lines."""
    distributors = min(24, max(4, lines // 25_000))
    resellers = min(2_000, max(20, lines // 250))
    return distributors, resellers, max(5, resellers // 10)


def _partner_rows(
    distributors: list[str], resellers: list[str], probes: list[str], rng: random.Random
) -> list[str]:
    rows = []
    for i, d in enumerate(distributors):
        enrolled = date(2024, 1, 1) + timedelta(days=13 * i)
        rows.append(
            f"{d},{d} Distribution Inc,DISTRIBUTOR,PLATINUM,,US;CA,,{enrolled},"
            f"ops@{d.lower()}.example.com"
        )
    for i, r in enumerate(resellers + probes):
        parent = distributors[i % len(distributors)]
        kind = RESELLER_TYPES[i % len(RESELLER_TYPES)]
        tier = TIERS[rng.randrange(len(TIERS))]
        enrolled = date(2024, 6, 1) + timedelta(days=rng.randrange(600))  # before 2026-02
        rows.append(
            f"{r},{r} Solutions Ltd,{kind},{tier},{parent},US,,{enrolled},"
            f"sales@{r.lower()}.example.com"
        )
    return rows


def _allocate(total: int, weights: list[float]) -> list[int]:
    """Integer shares of `total` proportional to `weights` (largest remainder, deterministic)."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    counts = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


class _LineMaker:
    def __init__(self, rng: random.Random, products: list[Product], ds: Dataset) -> None:
        self.rng = rng
        self.products = products
        self.cum = list(_cumulative([p.weight for p in products]))
        self.ds = ds
        self.deal_of = {d.partner_id: d for d in ds.deals}
        children: dict[str, list[str]] = {d: [] for d in ds.distributors}
        for i, r in enumerate(ds.resellers):
            children[ds.distributors[i % len(ds.distributors)]].append(r)
        self.children = children

    def line(self, report_id: str, line_no: int, d: str, month: date) -> str:
        rng, ex = self.rng, self.ds.expected
        own = self.children[d]
        r = rng.choice(own) if own and rng.random() < 0.7 else rng.choice(self.ds.resellers)
        p = rng.choices(self.products, cum_weights=self.cum)[0]
        if rng.random() < 0.03:  # a return
            qty = -rng.randint(1, 3)
        else:
            qty = rng.randint(1, 10) if rng.random() < 0.9 else rng.randint(11, 60)
        places = Decimal("0.0001") if rng.random() < 0.1 else Decimal("0.01")
        price = (p.list_price * Decimal(rng.randint(7500, 9500)) / 10000).quantize(places)
        days = ((month.replace(day=28) + timedelta(4)).replace(day=1) - month).days
        sold_on = month + timedelta(rng.randrange(days))
        customer = rng.choice(CUSTOMERS) if rng.random() < 0.8 else ""
        country = rng.choice(COUNTRIES) if customer else ""
        deal = self.deal_of.get(r)
        deal_id = deal.deal_id if deal is not None and rng.random() < 0.35 else ""
        sku, currency = p.sku, "USD"
        bad = rng.random()
        if bad < 0.001:
            sku = "NO-SUCH-SKU"
        elif bad < 0.002:
            qty = 0
        elif bad < 0.003:
            currency = "EUR"
        if sku == p.sku and qty != 0 and currency == "USD":
            ex.add_line(d, r, sku, qty, price, sold_on, deal.window if deal_id and deal else None)
        else:
            ex.rejected += 1
        return (
            f"{report_id},{line_no},{d},{r},{sku},{qty},{price},{currency},{sold_on},"
            f"{customer},{country},{deal_id}"
        )


def _cumulative(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def generate(root: Path, lines: int, *, seed: int = 2026, file_lines: int = 5_000) -> Dataset:
    """Write partners.csv, deals, shipments.csv and report files under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    n_dist, n_res, n_deals = sizes(lines)
    distributors = [f"BD-{i:02d}" for i in range(1, n_dist + 1)]
    resellers = [f"BR-{i:04d}" for i in range(1, n_res + 1)]
    probes = [f"BP-{i:02d}" for i in range(1, 41)]
    products = catalog()
    deals = [
        Deal(
            f"BDEAL-{i:04d}",
            resellers[(i * 7) % n_res],
            f"Bench Customer {i:04d}",
            products[i % len(products)].sku,
            date(2026, 3, 15) + timedelta(days=(i * 11) % 150),
        )
        for i in range(1, n_deals + 1)
    ]
    deals = list({d.partner_id: d for d in deals}.values())  # one deal per reseller
    partners_csv = root / "partners.csv"
    partners_csv.write_text(
        "\n".join([PARTNER_HEADER, *_partner_rows(distributors, resellers, probes, rng)]) + "\n"
    )
    ds = Dataset(root, distributors, resellers, probes, deals, partners_csv, root / "shipments.csv")
    maker = _LineMaker(rng, products, ds)
    weights = [1.0 / (i + 1) ** 0.8 for i in range(n_dist)]
    for d, count in zip(distributors, _allocate(lines, weights), strict=True):
        for month, in_month in zip(MONTHS, _allocate(count, [1.0] * len(MONTHS)), strict=True):
            for part, start in enumerate(range(0, in_month, file_lines), start=1):
                report_id = f"{d}-{month:%Y%m}-{part:03d}"
                n = min(file_lines, in_month - start)
                body = [maker.line(report_id, k, d, month) for k in range(1, n + 1)]
                path = root / f"{report_id}.csv"
                path.write_text("\n".join([REPORT_HEADER, *body]) + "\n")
                ds.reports.append(path)
    _shipments(ds, products)
    return ds


def _shipments(ds: Dataset, products: list[Product]) -> None:
    """Two sell-in shipments per distributor x SKU sold: 120 % of the units sold through."""
    price = {p.sku: p.list_price for p in products}
    rows = [SHIPMENT_HEADER]
    for (d, sku), sold in sorted(ds.expected.sell_through.items()):
        qty = max(1, (sold * 6 + 9) // 10)
        cost = (price[sku] * Decimal("0.7")).quantize(Decimal("0.01"))
        for n, day in enumerate((date(2026, 4, 2), date(2026, 7, 2)), start=1):
            rows.append(f"SHP-{d}-{sku}-{n},{d},{sku},{qty},{cost},USD,{day}")
            ds.expected.add_shipment(d, sku, qty)
    ds.shipments.write_text("\n".join(rows) + "\n")


def probe_report(
    i: int, size: int, ds: Dataset, rng: random.Random, probes: int
) -> tuple[str, str, bytes]:
    """Freshness report i: `size` lines, the first one for probe reseller i mod `probes` in
    PROBE_QUARTER (1 unit). Returns (report_id, probe partner, CSV body)."""
    report_id = f"FRESH-{i:06d}"
    probe = ds.probes[i % probes]
    d = ds.distributors[i % len(ds.distributors)]
    first = f"{report_id},1,{d},{probe},SW-8M,1,300.00,USD,{PROBE_DAY},,,"
    rows = [REPORT_HEADER, first]
    for k in range(2, size + 1):
        r = rng.choice(ds.resellers)
        rows.append(f"{report_id},{k},{d},{r},AP-210,{rng.randint(1, 5)},399.00,USD,2026-09-01,,,")
    return report_id, probe, ("\n".join(rows) + "\n").encode()
