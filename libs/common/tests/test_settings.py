"""Settings from the environment: the database pool size, shared and per service, and the
service-specific numbers, refused by variable name when malformed."""

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


@pytest.mark.parametrize("raw", ["http", "-1", "80.5"])
def test_an_http_port_that_is_not_a_whole_number_is_refused_by_name(monkeypatch, raw):
    monkeypatch.setenv("CHANNELSTREAM_HTTP_PORT", raw)
    with pytest.raises(
        ValueError, match=f"CHANNELSTREAM_HTTP_PORT must be an integer >= 0, not '{raw}'"
    ):
        Settings.from_env("analytics", default_port=8005)


def test_the_http_port_defaults_to_the_services_own(monkeypatch):
    monkeypatch.delenv("CHANNELSTREAM_HTTP_PORT", raising=False)
    assert Settings.from_env("analytics", default_port=8005).http_port == 8005
    monkeypatch.setenv("CHANNELSTREAM_HTTP_PORT", "0")
    assert Settings.from_env("analytics", default_port=8005).http_port == 0


def test_service_settings_are_read_as_numbers(monkeypatch):
    monkeypatch.setenv("CHANNELSTREAM_DEALREG_PROTECTION_DAYS", "0")
    monkeypatch.setenv("CHANNELSTREAM_DEALREG_PARTNER_WAIT_SECONDS", "0.5")
    s = Settings.from_env("dealreg")
    assert s.integer("protection_days", 90, at_least=0) == 0
    assert s.seconds("partner_wait_seconds", 3.0) == 0.5
    assert (s.integer("intake_queue", 64), s.seconds("hold_grace_seconds", 300)) == (64, 300.0)


@pytest.mark.parametrize(
    ("key", "raw", "read", "message"),
    [
        ("INTAKE_QUEUE", "0", lambda s: s.integer("intake_queue", 64), "a positive integer"),
        ("INTAKE_QUEUE", "lots", lambda s: s.integer("intake_queue", 64), "a positive integer"),
        ("PROTECTION_DAYS", "-1", lambda s: s.integer("protection_days", 90, at_least=0),
         "an integer >= 0"),
        ("HOLD_GRACE_SECONDS", "-2", lambda s: s.seconds("hold_grace_seconds", 300),
         "a number of seconds >= 0"),
        ("HOLD_GRACE_SECONDS", "nan", lambda s: s.seconds("hold_grace_seconds", 300),
         "a number of seconds >= 0"),
        ("HOLD_GRACE_SECONDS", "5m", lambda s: s.seconds("hold_grace_seconds", 300),
         "a number of seconds >= 0"),
    ],
)  # fmt: skip
def test_a_bad_service_setting_is_refused_naming_its_variable(monkeypatch, key, raw, read, message):
    monkeypatch.setenv(f"CHANNELSTREAM_SELLTHROUGH_{key}", raw)
    with pytest.raises(ValueError) as refused:
        read(Settings.from_env("sellthrough"))
    assert str(refused.value) == f"CHANNELSTREAM_SELLTHROUGH_{key} must be {message}, not '{raw}'"
