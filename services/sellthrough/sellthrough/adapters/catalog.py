"""The product catalog file (sku,description,list_price,product_line)."""

from __future__ import annotations

import csv
from pathlib import Path

from sellthrough.domain.model import Product
from sellthrough.domain.parsing import parse_catalog

BUNDLED = Path(__file__).resolve().parents[1] / "data" / "catalog.csv"


def load_catalog(path: Path = BUNDLED) -> dict[str, Product]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            catalog = parse_catalog(csv.reader(f))
    except (OSError, ValueError) as exc:
        raise RuntimeError(f"cannot load the product catalog {path}: {exc}") from exc
    if not catalog:
        raise RuntimeError(f"the product catalog {path} lists no products")
    return catalog
