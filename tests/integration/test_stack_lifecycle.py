"""`stack up` twice is a no-op; `stack down` stops every process it started."""

from __future__ import annotations

import socket

import pytest
from channelstream_cli import stack

pytestmark = [pytest.mark.integration, pytest.mark.stack_lifecycle]


def pids(paths: stack.Paths) -> dict[str, int | None]:
    return {
        "kafka": stack._read_pid(paths.run / "kafka.pid"),
        "registry": stack._read_pid(paths.run / "registry.pid"),
        "postgres": stack._read_pid(paths.data / "postgres" / "postmaster.pid"),
    }


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_second_up_is_a_noop_and_down_stops_everything(endpoints):
    if endpoints.source != "local stack":
        pytest.skip("the stack lifecycle applies to the local stack only")
    paths = stack.Paths(stack.repo_root())
    before = pids(paths)
    assert all(before.values())
    assert stack.up() == {
        "postgres": "already running",
        "kafka": "already running",
        "registry": "already running",
    }
    assert pids(paths) == before

    assert stack.down() == {"registry": "stopped", "kafka": "stopped", "postgres": "stopped"}
    for name, pid in before.items():
        assert pid is not None
        assert not stack._alive(pid), f"{name} (pid {pid}) still running"
    for port in (stack.KAFKA_PORT, stack.REGISTRY_PORT, stack.PG_PORT):
        assert not port_open(port)
    assert stack.status() == {"kafka": "stopped", "registry": "stopped", "postgres": "stopped"}
    assert set(stack.up().values()) == {"started"}
