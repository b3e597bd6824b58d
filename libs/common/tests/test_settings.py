"""Settings from the environment: the database pool size, shared and per service."""

from __future__ import annotations

import pytest
from channelstream_common.settings import Settings


def test_pool_size_defaults_to_ten(monkeypatch):
    monkeypatch.delenv("CHANNELSTREAM_DB_POOL_SIZE", raising=False)
    assert Settings.from_env("analytics").db_pool_size == 10


def test_a_services_own_pool_size_wins_over_the_shared_one(monkeypatch):
    monkeypatch.setenv("CHANNELSTREAM_DB_POOL_SIZE", "4")
    monkeypatch.setenv("CHANNELSTREAM_ANALYTICS_DB_POOL_SIZE", "12")
    assert Settings.from_env("analytics").db_pool_size == 12
    assert Settings.from_env("incentives").db_pool_size == 4


@pytest.mark.parametrize("raw", ["0", "-1", "ten", ""])
def test_a_pool_size_that_is_not_a_positive_integer_is_refused_by_name(monkeypatch, raw):
    monkeypatch.setenv("CHANNELSTREAM_DB_POOL_SIZE", raw)
    with pytest.raises(
        ValueError, match=f"CHANNELSTREAM_DB_POOL_SIZE must be a positive integer, not '{raw}'"
    ):
        Settings.from_env("analytics")
