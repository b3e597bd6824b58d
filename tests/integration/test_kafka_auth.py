"""Kafka clients authenticate: a throwaway broker (the stack's Kafka jars, temp dir, free ports)
whose client listener is SASL_PLAINTEXT with SCRAM-SHA-512 (as the Strimzi KafkaUsers) and PLAIN.
Right credentials publish, consume and run a whole service; wrong or no credentials are refused."""

from __future__ import annotations

import asyncio
import base64
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka.errors import KafkaConnectionError, SaslAuthenticationFailed
from channelstream_cli import stack
from channelstream_common import testing
from channelstream_common.admin import ensure_topics, register_schemas
from channelstream_common.audit import read_topic
from channelstream_common.kafka_security import client_kwargs
from channelstream_common.lag import LagMonitor
from channelstream_common.publisher import EventPublisher
from channelstream_common.serde import AvroSerde
from channelstream_common.settings import Settings
from channelstream_common.topics import PARTNER_ENROLLED

pytestmark = pytest.mark.integration
SCRAM_USER, SCRAM_PASSWORD = "channelstream-onboarding", "scram-secret"
PLAIN_USER, PLAIN_PASSWORD = "channelstream-analytics", "plain-secret"


@dataclass(frozen=True)
class SaslBroker:
    bootstrap: str
    log: Path

    def security(self, mechanism: str, user: str, password: str) -> dict[str, str]:
        """Settings fields for a client of this broker."""
        return {
            "kafka_bootstrap": self.bootstrap,
            "kafka_security_protocol": "SASL_PLAINTEXT",
            "kafka_sasl_mechanism": mechanism,
            "kafka_sasl_username": user,
            "kafka_sasl_password": password,
        }

    def settings(self, mechanism: str, user: str, password: str, prefix: str = "") -> Settings:
        return Settings(
            service="onboarding", topic_prefix=prefix, **self.security(mechanism, user, password)
        )


def _properties(folder: Path, client: int, internal: int, controller: int) -> Path:
    login = "org.apache.kafka.common.security.{0}.{1}LoginModule required"
    lines = [
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.voters=1@127.0.0.1:{controller}",
        f"listeners=SASL://127.0.0.1:{client},INTERNAL://127.0.0.1:{internal},"
        f"CONTROLLER://127.0.0.1:{controller}",
        f"advertised.listeners=SASL://127.0.0.1:{client},INTERNAL://127.0.0.1:{internal}",
        "listener.security.protocol.map=SASL:SASL_PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name=INTERNAL",
        "controller.listener.names=CONTROLLER",
        "sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN",
        # SCRAM credentials live in the cluster metadata (StorageTool --add-scram); PLAIN's here
        f"listener.name.sasl.scram-sha-512.sasl.jaas.config={login.format('scram', 'Scram')};",
        f"listener.name.sasl.plain.sasl.jaas.config={login.format('plain', 'Plain')} "
        f'user_{PLAIN_USER}="{PLAIN_PASSWORD}";',
        f"log.dirs={folder / 'data'}",
        "num.partitions=1",
        "auto.create.topics.enable=false",
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=1",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        "",
    ]
    conf = folder / "server.properties"
    conf.write_text("\n".join(lines))
    log4j = [
        "appender.out.type = Console",
        "appender.out.name = OUT",
        "appender.out.layout.type = PatternLayout",
        "appender.out.layout.pattern = %p %m (%c)%n",
        "rootLogger.level = WARN",
        "rootLogger.appenderRef.out.ref = OUT",
        # what the refusal tests look for: "Failed authentication with ..." (PLAIN, INFO) and
        # "Failed during authentication: Invalid client credentials" (SCRAM, DEBUG)
        "logger.net.name = org.apache.kafka.common.network.Selector",
        "logger.net.level = INFO",
        "logger.sasl.name = org.apache.kafka.common.security.authenticator.SaslServerAuthenticator",
        "logger.sasl.level = DEBUG",
        "",
    ]
    (folder / "log4j2.properties").write_text("\n".join(log4j))
    return conf


async def _answers(settings: Settings) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient

    host, port = settings.kafka_bootstrap.split(":")
    with socket.socket() as sock:
        if sock.connect_ex((host, int(port))) != 0:
            return False

    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap,
        request_timeout_ms=2000,
        **client_kwargs(settings),
    )
    try:
        await admin.start()
        return bool((await admin.describe_cluster()).get("brokers"))
    except Exception:
        return False
    finally:
        await admin.close()


@pytest.fixture(scope="module")
def sasl_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SaslBroker]:
    if not shutil.which("java"):
        pytest.skip("needs a Java runtime for the throwaway Kafka broker")
    paths = stack.Paths(stack.repo_root())
    stack.fetch_kafka(paths)
    folder = tmp_path_factory.mktemp("kafka-sasl")
    client = testing.free_port()
    conf = _properties(folder, client, testing.free_port(), testing.free_port())
    java = [
        *("java", "-Xms128m", "-Xmx512m", "-XX:TieredStopAtLevel=1"),
        f"-Dlog4j2.configurationFile={folder / 'log4j2.properties'}",
        *("-cp", f"{paths.kafka_libs}/*"),
    ]
    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    scram = f"SCRAM-SHA-512=[name={SCRAM_USER},password={SCRAM_PASSWORD}]"
    storage = ["kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", conf]
    subprocess.run([*java, *storage, "--add-scram", scram], check=True, capture_output=True)
    log = folder / "kafka.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*java, "kafka.Kafka", conf],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    broker = SaslBroker(f"127.0.0.1:{client}", log)
    try:
        ready = broker.settings("SCRAM-SHA-512", SCRAM_USER, SCRAM_PASSWORD)
        deadline = time.monotonic() + 45
        while not asyncio.run(_answers(ready)):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"SASL broker did not start: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield broker
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def partner(pid: str) -> dict:
    return testing.partner_enrolled(pid)


class NothingApplied:
    """A projection store that has applied nothing: its lag is the whole topic."""

    projection = "directory"

    async def positions(self) -> dict[tuple[str, int], int]:
        return {}


ACCOUNTS = [
    pytest.param("SCRAM-SHA-512", SCRAM_USER, SCRAM_PASSWORD, id="scram"),
    pytest.param("PLAIN", PLAIN_USER, PLAIN_PASSWORD, id="plain"),
]


@pytest.mark.parametrize(("mechanism", "user", "password"), ACCOUNTS)
async def test_right_credentials_create_publish_and_read(
    sasl_broker: SaslBroker,
    endpoints: testing.Endpoints,
    mechanism: str,
    user: str,
    password: str,
) -> None:
    prefix = testing.unique_prefix()
    s = sasl_broker.settings(mechanism, user, password, prefix)
    security = client_kwargs(s)
    topic = PARTNER_ENROLLED.full_name(prefix)
    created = await ensure_topics(s.kafka_bootstrap, prefix, [PARTNER_ENROLLED], security=security)
    assert created == {topic: "created"}
    serde = AvroSerde(endpoints.registry, prefix)
    await register_schemas(serde, [PARTNER_ENROLLED])
    ids = [f"P-{n}" for n in range(3)]
    publisher = EventPublisher(s.kafka_bootstrap, serde, "onboarding", security=security)
    await publisher.start()
    try:
        await publisher.publish_many([(PARTNER_ENROLLED, partner(pid)) for pid in ids])
    finally:
        await publisher.stop()

    found = await read_topic(s.kafka_bootstrap, serde, PARTNER_ENROLLED, security=security)
    assert [e.value["partner_id"] for e in found] == ids

    stores: Any = [(NothingApplied(), [topic])]
    monitor = LagMonitor("onboarding", s.kafka_bootstrap, stores, security=security)
    monitor.start(interval=0.1)
    try:

        async def measured() -> dict[tuple[str, str, int], int]:
            return monitor.lag

        lag = await testing.eventually(measured, within=15)
        assert {key[:2] for key in lag} == {("directory", topic)}
        assert sum(lag.values()) == 3
    finally:
        await monitor.stop()


async def test_a_service_runs_authenticated(
    sasl_broker: SaslBroker,
    endpoints: testing.Endpoints,
    settings_for: Callable[..., Settings],
) -> None:
    """Publisher (outbox), Faust consumer and producer, lag monitor: all on SCRAM credentials."""
    from onboarding.bootstrap import bootstrap

    prefix = testing.unique_prefix()
    security = sasl_broker.security("SCRAM-SHA-512", SCRAM_USER, SCRAM_PASSWORD)
    settings = settings_for("onboarding", topic_prefix=prefix, **security)
    await ensure_topics(settings.kafka_bootstrap, prefix, security=client_kwargs(settings))
    await register_schemas(AvroSerde(endpoints.registry, prefix), [PARTNER_ENROLLED])
    port = testing.free_port()
    svc = bootstrap(replace(settings, http_port=port))
    await svc.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            body = partner("D-AUTH") | {"enrolled_on": "2026-01-05"}
            del body["metadata"], body["parent_distributor_id"]
            assert (await http.post("/partners", json=body)).status_code == 201

            async def projected() -> bool:  # the Faust agent consumed the outbox's event
                return (await http.get("/partners/D-AUTH")).status_code == 200

            await testing.eventually(projected, within=30)

            async def ready() -> dict[str, Any]:
                response = (await http.get("/health/ready")).json()
                return response if response["ready"] else {}

            checks = (await testing.eventually(ready, within=15))["checks"]
            assert checks["kafka"] and checks["caught_up"]
    finally:
        await svc.stop()


async def _refused(broker: SaslBroker, attempt: Awaitable[Any]) -> None:
    """aiokafka frames SASL tokens without Kafka headers, so the broker cannot answer a failure
    with an error code: it closes the connection. Its log says why."""
    failures = re.compile(r"Failed (during )?authentication")
    before = len(failures.findall(broker.log.read_text()))
    with pytest.raises((SaslAuthenticationFailed, KafkaConnectionError)):
        await attempt

    async def logged() -> bool:
        return len(failures.findall(broker.log.read_text())) > before

    await testing.eventually(logged, within=5)


@pytest.mark.parametrize(
    ("mechanism", "user", "password"),
    [
        pytest.param("SCRAM-SHA-512", SCRAM_USER, "wrong", id="scram-wrong-password"),
        pytest.param("SCRAM-SHA-512", "nobody", SCRAM_PASSWORD, id="scram-unknown-user"),
        pytest.param("PLAIN", PLAIN_USER, "wrong", id="plain-wrong-password"),
    ],
)
async def test_wrong_credentials_are_refused(
    sasl_broker: SaslBroker, mechanism: str, user: str, password: str
) -> None:
    s = sasl_broker.settings(mechanism, user, password)
    security = client_kwargs(s)
    serde = AvroSerde("http://127.0.0.1:9/unused")
    publisher = EventPublisher(s.kafka_bootstrap, serde, "onboarding", security=security)
    try:
        await _refused(sasl_broker, publisher.start())
    finally:
        await publisher.stop()
    await _refused(
        sasl_broker,
        ensure_topics(s.kafka_bootstrap, "", [PARTNER_ENROLLED], security=security),
    )
    await _refused(
        sasl_broker, read_topic(s.kafka_bootstrap, serde, PARTNER_ENROLLED, security=security)
    )


async def test_no_credentials_are_refused(sasl_broker: SaslBroker) -> None:
    serde = AvroSerde("http://127.0.0.1:9/unused")
    publisher = EventPublisher(sasl_broker.bootstrap, serde, "onboarding")
    try:
        with pytest.raises(KafkaConnectionError):
            await publisher.start()
    finally:
        await publisher.stop()
    assert "Unexpected Kafka request of type METADATA during SASL handshake" in (
        sasl_broker.log.read_text()
    )
