"""The system under test: the local stack, topics under a run prefix, one fresh database per
service, and the five services as separate processes (one ServiceSet each, for per-service env)."""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from channelstream_cli import stack
from channelstream_cli.services import SERVICES, ServiceSet
from channelstream_common import testing
from channelstream_common.admin import ensure_topics, register_schemas
from channelstream_common.serde import AvroSerde
from channelstream_common.testing import drop_database
from channelstream_common.topics import ALL_TOPICS

from bench.dataset import PROTECTION_DAYS

SERVICE_ENV = {
    "CHANNELSTREAM_LOG_JSON": "false",
    "CHANNELSTREAM_LOG_LEVEL": "WARNING",
    "CHANNELSTREAM_DEALREG_PROTECTION_DAYS": str(PROTECTION_DAYS),
    "CHANNELSTREAM_DEALREG_PARTNER_WAIT_SECONDS": "30",
}


def endpoints() -> testing.Endpoints:
    """CHANNELSTREAM_KAFKA_BOOTSTRAP, _SCHEMA_REGISTRY_URL and _POSTGRES_URL when all are set,
    else the local stack, started if needed (`channelstream stack up`)."""
    names = ("KAFKA_BOOTSTRAP", "SCHEMA_REGISTRY_URL", "POSTGRES_URL")
    given = [os.environ.get(f"CHANNELSTREAM_{n}", "") for n in names]
    if all(given):
        return testing.Endpoints(given[0], given[1], given[2].rstrip("/"), "environment")
    stack.up()
    e = stack.endpoints()
    return testing.Endpoints(e["kafka"], e["registry"], e["postgres"], "local stack")


def plain_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@dataclass
class Cluster:
    endpoints: testing.Endpoints
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    ports: dict[str, int] = field(default_factory=dict)
    sets: dict[str, ServiceSet] = field(default_factory=dict)
    databases: list[str] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return f"bench{self.run_id}."

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def database(self, purpose: str) -> str:
        """A fresh database of this run; its SQLAlchemy URL. Dropped by `teardown`."""
        name = f"bench_{self.run_id}_{purpose}"
        self.databases.append(name)
        return testing.create_database(self.endpoints.postgres, name)

    async def provision(self) -> None:
        await ensure_topics(self.endpoints.kafka, self.prefix)
        serde = AvroSerde(self.endpoints.registry, self.prefix)
        await register_schemas(serde)

    def env(self, service: str) -> dict[str, str]:
        return {
            **SERVICE_ENV,
            "CHANNELSTREAM_KAFKA_BOOTSTRAP": self.endpoints.kafka,
            "CHANNELSTREAM_SCHEMA_REGISTRY_URL": self.endpoints.registry,
            "CHANNELSTREAM_POSTGRES_URL": self.endpoints.postgres,
            "CHANNELSTREAM_DATABASE_URL": self.database(service),
            "CHANNELSTREAM_TOPIC_PREFIX": self.prefix,
            "CHANNELSTREAM_OTLP_ENDPOINT": "",
        }

    async def start(self, within: float = 180) -> None:
        """Every service in its own process, started together; returns when all are ready."""
        for name in SERVICES:
            self.ports[name] = testing.free_port()
            self.sets[name] = ServiceSet(
                tag=f"bench-{self.run_id}-",
                ports=dict(self.ports),
                env=self.env(name),
                names=(name,),
            )
        try:
            await asyncio.gather(*(asyncio.to_thread(s.up, within) for s in self.sets.values()))
        except Exception:
            self.stop()
            raise

    def pid(self, service: str) -> int | None:
        s = self.sets.get(service)
        return stack._read_pid(s.pidfile(service)) if s else None

    def log(self, service: str) -> Path:
        return self.sets[service].log(service)

    def peak_rss_mb(self) -> dict[str, float | None]:
        """VmHWM (peak resident set) of each service process, in MiB."""
        out: dict[str, float | None] = {}
        for name in self.sets:
            out[name] = _vm_hwm_mb(self.pid(name))
        return out

    def stop(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, s in self.sets.items():
            try:
                out.update(s.down())
            except OSError as exc:  # one that cannot be signalled must not spare the others
                out[name] = f"not stopped: {exc}"
        return out

    async def teardown(self, *, keep: bool) -> None:
        """Stop the services first, since they write to the run's databases and topics, then
        drop those unless `keep`."""
        self.stop()
        if keep:
            return
        for name in self.databases:
            await asyncio.to_thread(drop_database, self.endpoints.postgres, name)
        admin = AIOKafkaAdminClient(bootstrap_servers=self.endpoints.kafka)
        await admin.start()
        try:
            await admin.delete_topics([t.full_name(self.prefix) for t in ALL_TOPICS])
        finally:
            await admin.close()


def _vm_hwm_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()
