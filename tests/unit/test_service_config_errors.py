"""A service started with a setting it cannot use exits at once with one line naming it."""

from __future__ import annotations

import subprocess
import sys

import pytest

CASES = [
    ("sellthrough", {"CHANNELSTREAM_SELLTHROUGH_INTAKE_QUEUE": "lots"},
     "error: sellthrough: CHANNELSTREAM_SELLTHROUGH_INTAKE_QUEUE must be a positive integer,"
     " not 'lots'"),
    ("dealreg", {"CHANNELSTREAM_DEALREG_PARTNER_WAIT_SECONDS": "soon"},
     "error: dealreg: CHANNELSTREAM_DEALREG_PARTNER_WAIT_SECONDS must be a number of seconds"
     " >= 0, not 'soon'"),
    ("analytics", {"CHANNELSTREAM_DB_POOL_SIZE": "0"},
     "error: analytics: CHANNELSTREAM_DB_POOL_SIZE must be a positive integer, not '0'"),
    ("incentives", {"CHANNELSTREAM_INCENTIVES_PROGRAMS_DIR": "/nonexistent/programs"},
     "error: incentives: rebate programs: "),
]  # fmt: skip


@pytest.mark.parametrize(("service", "env", "message"), CASES)
def test_a_bad_setting_stops_the_service_before_it_connects(service, env, message, monkeypatch):
    # nothing listens here: reaching Kafka or PostgreSQL would hang or fail differently
    monkeypatch.delenv("CHANNELSTREAM_DATABASE_URL", raising=False)
    monkeypatch.setenv("CHANNELSTREAM_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    monkeypatch.setenv("CHANNELSTREAM_POSTGRES_URL", "postgresql+psycopg://nobody@127.0.0.1:1")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    done = subprocess.run(
        [sys.executable, "-m", f"{service}.entrypoints.main"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(message) and done.stderr.count("\n") == 1, done.stderr
