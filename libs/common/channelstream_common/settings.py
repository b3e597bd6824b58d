"""Settings from environment variables (12-factor); one dataclass for every service."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

# the local stack's ports; an offset lets a second stack run beside the first (e.g. a CI rehearsal)
PORT_OFFSET = int(os.environ.get("CHANNELSTREAM_STACK_PORT_OFFSET", "0"))
KAFKA_PORT = 19092 + PORT_OFFSET
CONTROLLER_PORT = 19093 + PORT_OFFSET
REGISTRY_PORT = 18081 + PORT_OFFSET
PG_PORT = 15432 + PORT_OFFSET
DEFAULT_KAFKA = f"127.0.0.1:{KAFKA_PORT}"
DEFAULT_REGISTRY = f"http://127.0.0.1:{REGISTRY_PORT}/apis/ccompat/v7"
DEFAULT_POSTGRES = f"postgresql+psycopg://channelstream:channelstream@127.0.0.1:{PG_PORT}"


def _env(name: str, default: str) -> str:
    return os.environ.get(f"CHANNELSTREAM_{name}", default)


class ConfigError(ValueError):
    """A setting that cannot be used; the message names its variable."""


def _integer(name: str, raw: str, at_least: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = at_least - 1
    if value < at_least:
        wanted = "a positive integer" if at_least == 1 else f"an integer >= {at_least}"
        raise ConfigError(f"{name} must be {wanted}, not {raw!r}")
    return value


def _seconds(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):  # also refuses nan
        raise ConfigError(f"{name} must be a number of seconds >= 0, not {raw!r}")
    return value


def _positive(name: str, default: int) -> int:
    return _integer(name, os.environ.get(name, str(default)), 1)


@dataclass(frozen=True)
class Settings:
    service: str
    kafka_bootstrap: str = DEFAULT_KAFKA
    schema_registry_url: str = DEFAULT_REGISTRY
    database_url: str = f"{DEFAULT_POSTGRES}/postgres"
    topic_prefix: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = 0
    otlp_endpoint: str = ""
    log_level: str = "INFO"
    log_json: bool = True
    # connections each process keeps (5 more open for a burst and close when returned, at the
    # cost of a server process each time): the projections and the HTTP reads share them
    db_pool_size: int = 10
    # Kafka client security; channelstream_common.kafka_security turns these into client options
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str = ""
    kafka_sasl_username: str = ""
    kafka_sasl_password: str = field(default="", repr=False)
    kafka_sasl_password_file: str = ""
    kafka_ssl_cafile: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, service: str, default_port: int = 0) -> Settings:
        postgres = _env("POSTGRES_URL", DEFAULT_POSTGRES).rstrip("/")
        prefix = f"CHANNELSTREAM_{service.upper()}_"
        return cls(
            service=service,
            kafka_bootstrap=_env("KAFKA_BOOTSTRAP", DEFAULT_KAFKA),
            schema_registry_url=_env("SCHEMA_REGISTRY_URL", DEFAULT_REGISTRY),
            database_url=_env("DATABASE_URL", f"{postgres}/{service}"),
            topic_prefix=_env("TOPIC_PREFIX", ""),
            http_host=_env("HTTP_HOST", "127.0.0.1"),
            http_port=_integer(  # 0: any free port
                "CHANNELSTREAM_HTTP_PORT", _env("HTTP_PORT", str(default_port)), 0
            ),
            otlp_endpoint=_env("OTLP_ENDPOINT", ""),
            log_level=_env("LOG_LEVEL", "INFO"),
            log_json=_env("LOG_JSON", "true").lower() in ("1", "true", "yes"),
            db_pool_size=_positive(  # CHANNELSTREAM_<SERVICE>_DB_POOL_SIZE wins
                f"{prefix}DB_POOL_SIZE", _positive("CHANNELSTREAM_DB_POOL_SIZE", 10)
            ),
            kafka_security_protocol=_env("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"),
            kafka_sasl_mechanism=_env("KAFKA_SASL_MECHANISM", ""),
            kafka_sasl_username=_env("KAFKA_SASL_USERNAME", ""),
            kafka_sasl_password=_env("KAFKA_SASL_PASSWORD", ""),
            kafka_sasl_password_file=_env("KAFKA_SASL_PASSWORD_FILE", ""),
            kafka_ssl_cafile=_env("KAFKA_SSL_CAFILE", ""),
            extra={
                k[len(prefix) :].lower(): v for k, v in os.environ.items() if k.startswith(prefix)
            },
        )

    def get(self, key: str, default: str) -> str:
        """A service-specific setting: CHANNELSTREAM_<SERVICE>_<KEY>."""
        return self.extra.get(key.lower(), default)

    def integer(self, key: str, default: int, *, at_least: int = 1) -> int:
        """A service-specific whole number; a bad value is refused naming its variable."""
        return _integer(self._name(key), self.get(key, str(default)), at_least)

    def seconds(self, key: str, default: float) -> float:
        """A service-specific duration in seconds (>= 0); refused by name when it is not."""
        return _seconds(self._name(key), self.get(key, str(default)))

    def _name(self, key: str) -> str:
        return f"CHANNELSTREAM_{self.service.upper()}_{key.upper()}"
