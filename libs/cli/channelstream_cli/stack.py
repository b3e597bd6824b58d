"""The local stack: Kafka (KRaft), Apicurio Registry and PostgreSQL as plain processes, no Docker.

Everything lives under `.stack/` at the repository root: `cache/` (downloads, kept by `reset`),
`data/`, `logs/` and `run/` (pid files). Every version is pinned here and in deploy/local/pom.xml.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import tarfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from channelstream_common.settings import CONTROLLER_PORT, KAFKA_PORT, PG_PORT, REGISTRY_PORT

KAFKA_VERSION = "4.1.2"
APICURIO_VERSION = "3.0.9"  # 3.1+ needs Java 21; the stack promises Java 17
PG_USER = "channelstream"
PG_PASSWORD = "channelstream"
SERVICE_DATABASES = ("onboarding", "dealreg", "sellthrough", "incentives", "analytics")


class StackError(RuntimeError):
    """A one-line, user-facing reason the stack could not be brought up."""


def repo_root() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "deploy" / "local" / "pom.xml").exists():
            return parent
    raise StackError("cannot find the repository root (deploy/local/pom.xml)")


@dataclass(frozen=True)
class Paths:
    root: Path

    @property
    def base(self) -> Path:
        return Path(os.environ.get("CHANNELSTREAM_STACK_DIR", self.root / ".stack"))

    @property
    def cache(self) -> Path:
        return self.base / "cache"

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def logs(self) -> Path:
        return self.base / "logs"

    @property
    def run(self) -> Path:
        return self.base / "run"

    @property
    def kafka_libs(self) -> Path:
        return self.cache / f"kafka-{KAFKA_VERSION}" / "libs"

    @property
    def apicurio_home(self) -> Path:
        return self.cache / f"apicurio-registry-{APICURIO_VERSION}"


def endpoints() -> dict[str, str]:
    return {
        "kafka": f"127.0.0.1:{KAFKA_PORT}",
        "registry": f"http://127.0.0.1:{REGISTRY_PORT}/apis/ccompat/v7",
        "postgres": f"postgresql+psycopg://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{PG_PORT}",
    }


# ---------------------------------------------------------------- prerequisites and downloads


def _require(cmd: str, hint: str) -> str:
    path = shutil.which(cmd)
    if not path:
        raise StackError(f"missing prerequisite: `{cmd}` not found on PATH ({hint})")
    return path


def _java_major() -> int:
    _require("java", "install a Java 17+ runtime, e.g. Debian package openjdk-17-jre-headless")
    out = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    version = out.split('"')[1] if '"' in out else "0"
    major = version.split(".")[0]
    return int(major) if major.isdigit() else 0


def _check_java() -> None:
    if _java_major() < 17:
        raise StackError("missing prerequisite: Java 17 or newer is required by Kafka 4.1")


def fetch_kafka(paths: Paths) -> None:
    marker = paths.kafka_libs / f"kafka_2.13-{KAFKA_VERSION}.jar"
    if marker.exists():
        return
    _require("mvn", "install Maven, e.g. Debian package maven")
    paths.kafka_libs.mkdir(parents=True, exist_ok=True)
    log = paths.logs / "mvn-kafka.log"
    with log.open("w") as out:
        done = subprocess.run(
            [
                "mvn",
                "-B",
                "-q",
                "-f",
                str(paths.root / "deploy/local/pom.xml"),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={paths.kafka_libs}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if done.returncode != 0 or not marker.exists():
        raise StackError(f"could not resolve Kafka {KAFKA_VERSION} from Maven Central; see {log}")


def _apicurio_jar(home: Path) -> Path | None:
    # 3.1+ ships the fast-jar layout (quarkus-run.jar); 3.0.x a legacy *-runner.jar
    for jar in (home / "quarkus-run.jar", *home.glob("*-runner.jar")):
        if jar.exists():
            return jar
    return None


def fetch_apicurio(paths: Paths) -> Path:
    jar = _apicurio_jar(paths.apicurio_home)
    if jar:
        return jar
    _require("mvn", "install Maven, e.g. Debian package maven")
    dl = paths.cache / "downloads"
    dl.mkdir(parents=True, exist_ok=True)
    archive = dl / f"apicurio-registry-app-{APICURIO_VERSION}-all.tar.gz"
    if not archive.exists():
        log = paths.logs / "mvn-apicurio.log"
        with log.open("w") as out:
            done = subprocess.run(
                [
                    "mvn",
                    "-B",
                    "-q",
                    "-f",
                    str(paths.root / "deploy/local/pom.xml"),
                    "dependency:copy",
                    f"-Dartifact=io.apicurio:apicurio-registry-app:{APICURIO_VERSION}:tar.gz:all",
                    f"-DoutputDirectory={dl}",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if done.returncode != 0 or not archive.exists():
            raise StackError(f"could not resolve Apicurio Registry {APICURIO_VERSION}; see {log}")
    tmp = paths.apicurio_home.with_suffix(".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(tmp, filter="data")
    shutil.rmtree(paths.apicurio_home, ignore_errors=True)
    tmp.rename(paths.apicurio_home)
    jar = _apicurio_jar(paths.apicurio_home)
    if not jar:
        raise StackError(f"no runnable jar in {archive}")
    return jar


def pg_bindir() -> Path | None:
    base = Path("/usr/lib/postgresql")
    versions = sorted(
        (p for p in base.glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return versions[-1] if versions else None


def ensure_postgres_installed() -> Path:
    found = pg_bindir()
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise StackError(
            "missing prerequisite: PostgreSQL server not found under /usr/lib/postgresql "
            "(install the Debian package `postgresql`)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=False, env=env, capture_output=True)
    done = subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", "postgresql"],
        env=env,
        capture_output=True,
        text=True,
    )
    found = pg_bindir()
    if done.returncode != 0 or not found:
        raise StackError(f"apt-get install postgresql failed: {done.stderr.strip()[-300:]}")
    return found


# ---------------------------------------------------------------- process helpers


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


def _read_pid(pidfile: Path) -> int | None:
    try:
        pid = int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if _alive(pid) else None


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _spawn(cmd: list[str], log: Path, pidfile: Path, cwd: Path | None = None) -> int:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            start_new_session=True,
        )
    pidfile.write_text(str(proc.pid))
    return proc.pid


def _stop_pid(pidfile: Path, timeout: float = 30) -> bool:
    pid = _read_pid(pidfile)
    if pid is None:
        pidfile.unlink(missing_ok=True)
        return False
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    if _alive(pid):
        os.killpg(pid, signal.SIGKILL)
    pidfile.unlink(missing_ok=True)
    return True


def _wait(what: str, check, timeout: float, pidfile: Path | None, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if pidfile is not None and _read_pid(pidfile) is None:
            tail = log.read_text(errors="replace").strip().splitlines()[-5:] if log.exists() else []
            raise StackError(f"{what} exited during start-up; see {log}: {' | '.join(tail)}")
        time.sleep(0.5)
    raise StackError(f"{what} not ready after {timeout:.0f}s; see {log}")


# ---------------------------------------------------------------- Kafka


def kafka_metadata_ok() -> bool:
    """The broker answers a metadata request (not merely an open port)."""
    import asyncio

    from aiokafka.admin import AIOKafkaAdminClient

    async def probe() -> bool:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=f"127.0.0.1:{KAFKA_PORT}", request_timeout_ms=3000
        )
        try:
            await admin.start()
            cluster = await admin.describe_cluster()
            return bool(cluster.get("brokers"))
        except Exception:
            return False
        finally:
            await admin.close()

    if not _port_open(KAFKA_PORT):
        return False
    return asyncio.run(probe())


def _kafka_config(paths: Paths) -> Path:
    conf = paths.data / "kafka.properties"
    log_dir = paths.data / "kafka"
    conf.write_text(
        "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{CONTROLLER_PORT}",
                f"listeners=PLAINTEXT://127.0.0.1:{KAFKA_PORT},CONTROLLER://127.0.0.1:{CONTROLLER_PORT}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{KAFKA_PORT}",
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                f"log.dirs={log_dir}",
                "num.partitions=3",
                "auto.create.topics.enable=false",
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "log.retention.hours=-1",
                "",
            ]
        )
    )
    log4j = paths.data / "kafka-log4j2.properties"
    log4j.write_text(
        "\n".join(
            [
                "status = warn",
                "appender.out.type = Console",
                "appender.out.name = OUT",
                "appender.out.layout.type = PatternLayout",
                "appender.out.layout.pattern = [%d] %p %m (%c)%n",
                "rootLogger.level = INFO",
                "rootLogger.appenderRef.out.ref = OUT",
                "logger.kafka.name = kafka",
                "logger.kafka.level = INFO",
                "logger.state.name = state.change.logger",
                "logger.state.level = WARN",
                "",
            ]
        )
    )
    return conf


def start_kafka(paths: Paths) -> str:
    pidfile = paths.run / "kafka.pid"
    log = paths.logs / "kafka.log"
    if _read_pid(pidfile):
        return "already running"
    if _port_open(KAFKA_PORT):
        raise StackError(f"port {KAFKA_PORT} is taken by another process (not this stack's Kafka)")
    fetch_kafka(paths)
    conf = _kafka_config(paths)
    cp = f"{paths.kafka_libs}/*"
    java = [
        "java",
        "-Xms256m",
        "-Xmx768m",
        "-XX:+UseG1GC",
        f"-Dlog4j2.configurationFile={paths.data / 'kafka-log4j2.properties'}",
        "-cp",
        cp,
    ]
    if not (paths.data / "kafka" / "meta.properties").exists():
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        with log.open("ab") as out:
            done = subprocess.run(
                [*java, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(conf)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if done.returncode != 0:
            raise StackError(f"Kafka storage format failed; see {log}")
    _spawn([*java, "kafka.Kafka", str(conf)], log, pidfile)
    _wait("Kafka", kafka_metadata_ok, 90, pidfile, log)
    return "started"


# ---------------------------------------------------------------- Apicurio Registry


def registry_ok() -> bool:
    url = f"http://127.0.0.1:{REGISTRY_PORT}/apis/ccompat/v7/subjects"
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def start_registry(paths: Paths) -> str:
    pidfile = paths.run / "registry.pid"
    log = paths.logs / "registry.log"
    if _read_pid(pidfile):
        return "already running"
    if _port_open(REGISTRY_PORT):
        raise StackError(
            f"port {REGISTRY_PORT} is taken by another process (not this stack's registry)"
        )
    jar = fetch_apicurio(paths)
    cmd = [
        "java",
        "-Xms128m",
        "-Xmx512m",
        f"-Dquarkus.http.port={REGISTRY_PORT}",
        "-Dquarkus.http.host=127.0.0.1",
        "-Dapicurio.storage.kind=sql",
        "-Dapicurio.storage.sql.kind=h2",
        "-Dapicurio.rest.deletion.artifact.enabled=true",
        "-Dapicurio.rest.deletion.artifact-version.enabled=true",
        "-Dquarkus.log.console.format=%d %-5p [%c{2.}] %s%e%n",
        "-jar",
        str(jar),
    ]
    _spawn(cmd, log, pidfile, cwd=paths.apicurio_home)
    _wait("Apicurio Registry", registry_ok, 120, pidfile, log)
    return "started"


# ---------------------------------------------------------------- PostgreSQL


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def postgres_ok() -> bool:
    import psycopg

    try:
        with psycopg.connect(
            host="127.0.0.1",
            port=PG_PORT,
            user=PG_USER,
            password=PG_PASSWORD,
            dbname="postgres",
            connect_timeout=2,
        ) as conn:
            conn.execute("select 1")
        return True
    except psycopg.Error:
        return False


def start_postgres(paths: Paths) -> str:
    bindir = ensure_postgres_installed()
    pgdata = paths.data / "postgres"
    sockdir = paths.run / "pg"
    log = paths.logs / "postgres.log"
    pidfile = pgdata / "postmaster.pid"
    if _read_pid(pidfile) and postgres_ok():
        return "already running"
    if _port_open(PG_PORT) and not _read_pid(pidfile):
        raise StackError(
            f"port {PG_PORT} is taken by another process (not this stack's PostgreSQL)"
        )
    owner = ["chown", "-R", "postgres:postgres"] if os.geteuid() == 0 else None
    for d in (pgdata, sockdir):
        d.mkdir(parents=True, exist_ok=True)
        if owner:
            subprocess.run([*owner, str(d)], check=True)
    log.touch()
    if owner:
        subprocess.run([*owner, str(log)], check=True)
    fresh = not (pgdata / "PG_VERSION").exists()
    if fresh:
        pwfile = paths.run / "pg.pw"
        pwfile.write_text(PG_PASSWORD)
        if owner:
            subprocess.run([*owner, str(pwfile)], check=True)
        done = subprocess.run(
            _as_postgres(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(pgdata),
                    "-U",
                    PG_USER,
                    f"--pwfile={pwfile}",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            capture_output=True,
            text=True,
        )
        pwfile.unlink(missing_ok=True)
        if done.returncode != 0:
            raise StackError(f"initdb failed: {done.stderr.strip()[-300:]}")
    opts = (
        f"-c port={PG_PORT} -c listen_addresses=127.0.0.1 -c unix_socket_directories={sockdir}"
        " -c max_connections=200 -c fsync=off -c synchronous_commit=off"
        " -c full_page_writes=off -c shared_buffers=256MB"
    )
    done = subprocess.run(
        _as_postgres(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(pgdata),
                "-l",
                str(log),
                "-o",
                opts,
                "-w",
                "-t",
                "60",
                "start",
            ]
        ),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise StackError(f"PostgreSQL failed to start; see {log}: {done.stderr.strip()[-200:]}")
    _wait("PostgreSQL", postgres_ok, 30, None, log)
    ensure_databases(SERVICE_DATABASES)
    return "started"


def ensure_databases(names: tuple[str, ...] | list[str]) -> None:
    import psycopg

    with psycopg.connect(
        host="127.0.0.1",
        port=PG_PORT,
        user=PG_USER,
        password=PG_PASSWORD,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        existing = {r[0] for r in conn.execute("select datname from pg_database")}
        for name in names:
            if name not in existing:
                conn.execute(f'create database "{name}"')


def stop_postgres(paths: Paths) -> bool:
    bindir = pg_bindir()
    pgdata = paths.data / "postgres"
    if not bindir or not _read_pid(pgdata / "postmaster.pid"):
        return False
    subprocess.run(
        _as_postgres([str(bindir / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"]),
        capture_output=True,
    )
    return True


# ---------------------------------------------------------------- commands


def _paths() -> Paths:
    paths = Paths(repo_root())
    for d in (paths.cache, paths.data, paths.logs, paths.run):
        d.mkdir(parents=True, exist_ok=True)
    return paths


def up() -> dict[str, str]:
    _check_java()
    paths = _paths()
    return {
        "postgres": start_postgres(paths),
        "kafka": start_kafka(paths),
        "registry": start_registry(paths),
    }


def down() -> dict[str, str]:
    paths = _paths()
    return {
        "registry": "stopped" if _stop_pid(paths.run / "registry.pid") else "not running",
        "kafka": "stopped" if _stop_pid(paths.run / "kafka.pid", timeout=60) else "not running",
        "postgres": "stopped" if stop_postgres(paths) else "not running",
    }


def status() -> dict[str, str]:
    paths = _paths()

    def describe(pidfile: Path, ready: bool) -> str:
        pid = _read_pid(pidfile)
        if pid is None:
            return "stopped"
        return f"running (pid {pid})" + ("" if ready else ", not ready")

    return {
        "kafka": describe(paths.run / "kafka.pid", kafka_metadata_ok()),
        "registry": describe(paths.run / "registry.pid", registry_ok()),
        "postgres": describe(paths.data / "postgres" / "postmaster.pid", postgres_ok()),
    }


def reset() -> None:
    down()
    paths = _paths()
    shutil.rmtree(paths.data, ignore_errors=True)
    shutil.rmtree(paths.run, ignore_errors=True)
