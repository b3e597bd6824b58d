from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from channelstream_common import tracing
from channelstream_common.events import cloudevent_fields, cloudevent_headers, new_metadata
from channelstream_common.outbox import Outbox, pack_headers, unpack_headers
from channelstream_common.topics import PARTNER_ENROLLED, REBATE_ACCRUED, Topic


class _Serde:
    prefix = "p."


class _Publisher:
    serde = _Serde()
    service = "onboarding"


def _outbox() -> Outbox:
    return Outbox(engine=None, publisher=_Publisher())  # type: ignore[arg-type]


def test_packed_headers_unpack_to_the_same_pairs_as_bytes() -> None:
    pairs = [("ce_id", "abc"), ("dlq_reason", "BAD_LINE: quantity 'x', é"), ("empty", "")]
    assert unpack_headers(pack_headers(pairs)) == [(k, v.encode()) for k, v in pairs]


def test_separators_inside_values_become_spaces_instead_of_splitting_headers() -> None:
    packed = pack_headers([("dlq_reason", "a\x1eb\x1fc"), ("k\x1f", "v")])
    assert unpack_headers(packed) == [("dlq_reason", b"a b c"), ("k ", b"v")]


def test_no_headers_pack_to_an_empty_text_and_back() -> None:
    assert pack_headers([]) == ""
    assert unpack_headers("") == []


def test_staged_headers_are_the_cloudevents_headers_a_direct_publish_sends() -> None:
    at = datetime(2026, 11, 23, 4, 5, 6, 789000, tzinfo=UTC)
    meta: dict[str, Any] = new_metadata("onboarding", recorded_at=at)
    assert PARTNER_ENROLLED.value_schema
    staged = unpack_headers(_outbox()._headers(PARTNER_ENROLLED, meta))
    assert staged == cloudevent_headers(PARTNER_ENROLLED.value_schema, meta)
    other = new_metadata("onboarding", recorded_at=at)
    assert dict(unpack_headers(_outbox()._headers(PARTNER_ENROLLED, other)))["ce_id"] == (
        other["event_id"].encode()
    )


@pytest.mark.parametrize(
    ("event_id", "producer", "parent"),
    [
        ("plain-id", "onboarding", None),
        ("id\x1fwith\x1eseparators", "onboarding", None),
        ("\x1e", "sell\x1fthrough", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        ("", "incentives", "with\x1eseparator\x1f"),
        ("é ß 中文", "dealreg", None),
    ],
    ids=["plain", "separators-in-id", "separators-everywhere", "empty-id", "unicode"],
)
@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 11, 23, 4, 5, 6, 789000, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2026, 1, 1, 0, 0, 0, 1),
    ],
    ids=["utc", "offset", "naive"],
)
@pytest.mark.parametrize("topic", [PARTNER_ENROLLED, REBATE_ACCRUED], ids=lambda t: t.name)
def test_staged_headers_are_the_packed_cloudevent_fields_and_traceparent(
    monkeypatch: pytest.MonkeyPatch,
    topic: Topic,
    event_id: str,
    producer: str,
    parent: str | None,
    at: datetime,
) -> None:
    meta: dict[str, Any] = new_metadata(producer, event_id=event_id, recorded_at=at)
    monkeypatch.setattr(tracing, "traceparent", lambda _: parent)
    assert topic.value_schema
    fields = cloudevent_fields(topic.value_schema, meta)
    expected = pack_headers([*fields, ("traceparent", parent)] if parent else fields)
    assert _outbox()._headers(topic, meta) == expected
