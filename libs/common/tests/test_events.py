import uuid
from decimal import Decimal

from channelstream_common.events import _NAMESPACE, derived_id


def test_derived_ids_are_the_uuid5_of_their_parts_so_earlier_events_keep_their_ids():
    cases = [("e1",), ("a", "BASE", "channel-rebates", 1), ("ü", Decimal("1.50"), None), ()]
    cases += [(f"line-{i}", "TIER_TRUE_UP", i) for i in range(2000)]  # every variant digit
    for parts in cases:
        expected = uuid.uuid5(_NAMESPACE, "|".join(str(p) for p in parts))
        assert derived_id(*parts) == str(expected)
        assert uuid.UUID(derived_id(*parts)).version == 5
