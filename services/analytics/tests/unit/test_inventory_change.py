import random
from datetime import date

from analytics.domain.inventory import InventoryChange, inventory_change

D1, D2 = date(2026, 10, 1), date(2026, 10, 2)
SHIPMENTS = [("D", "A", 10), ("D", "A", 5), ("E", "C", 7)]
LINES = [
    ("D", "A", 4, D1),
    ("D", "A", -1, D1),
    ("D", "B", 3, D2),
    ("E", "B", 2, D1),
]


def test_new_facts_add_their_units_per_position_bucket_and_distributor():
    change = inventory_change(SHIPMENTS, LINES)
    assert change.sell_in == {("D", "A"): 15, ("E", "C"): 7}
    assert change.sell_through == {("D", "A"): 3, ("D", "B"): 3, ("E", "B"): 2}
    assert change.daily == {("D", "A", D1): 3, ("D", "B", D2): 3, ("E", "B", D1): 2}
    assert change.latest == {"D": D2, "E": D1}
    assert change.positions == [("D", "A"), ("D", "B"), ("E", "B"), ("E", "C")]


def test_nothing_new_changes_nothing():
    assert not inventory_change([], [])
    assert inventory_change([("D", "A", 1)], [])
    assert inventory_change([], [("D", "A", 0, D1)])  # a position to create, even at 0


def merged(parts: list[InventoryChange]) -> InventoryChange:
    out = InventoryChange()
    for part in parts:
        for mine, theirs in (
            (out.sell_in, part.sell_in),
            (out.sell_through, part.sell_through),
            (out.daily, part.daily),
        ):
            for key, units in theirs.items():
                mine[key] = mine.get(key, 0) + units  # type: ignore[index]
        for d, day in part.latest.items():
            out.latest[d] = max(out.latest.get(d, day), day)
    return out


def test_order_and_batching_do_not_matter():
    whole = inventory_change(SHIPMENTS, LINES)
    rng = random.Random(7)
    for _ in range(20):
        shipments, lines = SHIPMENTS[:], LINES[:]
        rng.shuffle(shipments)
        rng.shuffle(lines)
        cut_s, cut_l = rng.randrange(len(shipments) + 1), rng.randrange(len(lines) + 1)
        parts = [
            inventory_change(shipments[:cut_s], lines[:cut_l]),
            inventory_change(shipments[cut_s:], lines[cut_l:]),
        ]
        assert merged(parts) == whole
