"""Kafka client security (SASL PLAIN/SCRAM, TLS) from Settings, translated in one place: the
options of every aiokafka client (`client_kwargs`) and Faust's `broker_credentials`."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faust.types.auth import CredentialsT

    from channelstream_common.settings import Settings

PROTOCOLS = ("PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
DEFAULT_MECHANISM = "SCRAM-SHA-512"  # what the Strimzi KafkaUsers in deploy/k8s use
VAR = "CHANNELSTREAM_KAFKA_"


class KafkaSecurityError(ValueError):
    """The Kafka security settings are incomplete or contradict each other."""


@dataclass(frozen=True)
class KafkaSecurity:
    protocol: str
    mechanism: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    cafile: str = ""

    @property
    def sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        return self.protocol.endswith("SSL")

    def ssl_context(self) -> ssl.SSLContext | None:
        """The system trust store, or only the CA in `cafile` (e.g. the Strimzi cluster CA)."""
        if not self.tls:
            return None
        from aiokafka.helpers import create_ssl_context

        try:
            return create_ssl_context(cafile=self.cafile or None)
        except OSError as exc:  # ssl.SSLError is an OSError too
            raise KafkaSecurityError(f"{VAR}SSL_CAFILE={self.cafile}: {exc}") from None


def _password(settings: Settings) -> str:
    if settings.kafka_sasl_password and settings.kafka_sasl_password_file:
        raise KafkaSecurityError(f"set {VAR}SASL_PASSWORD or {VAR}SASL_PASSWORD_FILE, not both")
    if not settings.kafka_sasl_password_file:
        return settings.kafka_sasl_password
    try:
        return Path(settings.kafka_sasl_password_file).read_text().rstrip("\r\n")
    except OSError as exc:
        raise KafkaSecurityError(
            f"{VAR}SASL_PASSWORD_FILE={settings.kafka_sasl_password_file}: {exc.strerror}"
        ) from None


def resolve(settings: Settings) -> KafkaSecurity:
    """The checked security settings; raises KafkaSecurityError with a one-line reason."""
    protocol = settings.kafka_security_protocol.strip().upper() or "PLAINTEXT"
    if protocol not in PROTOCOLS:
        raise KafkaSecurityError(
            f"{VAR}SECURITY_PROTOCOL={settings.kafka_security_protocol!r}: "
            f"expected one of {', '.join(PROTOCOLS)}"
        )
    password = _password(settings)
    mechanism = settings.kafka_sasl_mechanism.strip().upper()
    credentials = {
        f"{VAR}SASL_USERNAME": settings.kafka_sasl_username,
        f"{VAR}SASL_PASSWORD[_FILE]": password,
    }
    if protocol.startswith("SASL_"):
        mechanism = mechanism or DEFAULT_MECHANISM
        if mechanism not in MECHANISMS:
            raise KafkaSecurityError(
                f"{VAR}SASL_MECHANISM={mechanism!r}: expected one of {', '.join(MECHANISMS)}"
            )
        if missing := [name for name, value in credentials.items() if not value]:
            raise KafkaSecurityError(
                f"{VAR}SECURITY_PROTOCOL={protocol} needs {' and '.join(missing)}"
            )
    else:
        given = {f"{VAR}SASL_MECHANISM": mechanism, **credentials}
        if named := [name for name, value in given.items() if value]:
            # credentials the broker would never be asked for: almost certainly a mistake
            raise KafkaSecurityError(
                f"{', '.join(named)} set, but {VAR}SECURITY_PROTOCOL is {protocol}: "
                "use SASL_PLAINTEXT or SASL_SSL"
            )
    if settings.kafka_ssl_cafile and not protocol.endswith("SSL"):
        raise KafkaSecurityError(
            f"{VAR}SSL_CAFILE set, but {VAR}SECURITY_PROTOCOL is {protocol}: use SSL or SASL_SSL"
        )
    return KafkaSecurity(
        protocol, mechanism, settings.kafka_sasl_username, password, settings.kafka_ssl_cafile
    )


def client_kwargs(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for AIOKafkaProducer, AIOKafkaConsumer and AIOKafkaAdminClient."""
    sec = resolve(settings)
    kwargs: dict[str, Any] = {"security_protocol": sec.protocol}
    if sec.sasl:
        kwargs |= {
            "sasl_mechanism": sec.mechanism,
            "sasl_plain_username": sec.username,
            "sasl_plain_password": sec.password,
        }
    if sec.tls:
        kwargs["ssl_context"] = sec.ssl_context()
    return kwargs


def faust_credentials(settings: Settings) -> CredentialsT | None:
    """Faust's `broker_credentials`: None for PLAINTEXT."""
    import faust

    sec = resolve(settings)
    if sec.sasl:
        return faust.SASLCredentials(
            username=sec.username,
            password=sec.password,
            mechanism=sec.mechanism,
            ssl_context=sec.ssl_context(),  # a context makes it SASL_SSL
        )
    if sec.tls:
        return faust.SSLCredentials(sec.ssl_context())
    return None
