"""A replay's outbox: what its handlers stage was published when the events were first applied."""

from collections.abc import Iterator
from typing import Any

from channelstream_common.outbox import Outbox


def _never_iterated() -> Iterator[Any]:
    raise AssertionError("a discarding outbox built the events")
    yield


async def test_a_discarding_outbox_neither_builds_nor_stages_events() -> None:
    outbox = Outbox(engine=None, publisher=None)  # type: ignore[arg-type]
    outbox.discarding = True
    await outbox.add(None, _never_iterated())  # type: ignore[arg-type]
    await outbox.add_rows(None, [("topic", None, b"raw", "", "event-1")])  # type: ignore[arg-type]
