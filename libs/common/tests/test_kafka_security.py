"""Kafka security settings: environment in, aiokafka options and Faust credentials out."""

from __future__ import annotations

import os
import ssl
import subprocess
from pathlib import Path

import faust
import pytest
from channelstream_common.kafka_security import (
    KafkaSecurityError,
    client_kwargs,
    faust_credentials,
)
from channelstream_common.settings import Settings


def settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for key in [k for k in os.environ if k.startswith("CHANNELSTREAM_KAFKA_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(f"CHANNELSTREAM_KAFKA_{key}", value)
    return Settings.from_env("onboarding")


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A self-signed CA certificate, as in a Strimzi `<cluster>-cluster-ca-cert` Secret."""
    folder = tmp_path_factory.mktemp("ca")
    key = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    out = ("-keyout", folder / "ca.key", "-out", folder / "ca.crt")
    subprocess.run(
        ["openssl", "req", "-x509", *key, "-days", "1", "-subj", "/CN=cluster-ca", *out],
        check=True,
        capture_output=True,
    )
    return folder / "ca.crt"


def test_plaintext_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    s = settings(monkeypatch)
    assert s.kafka_security_protocol == "PLAINTEXT"
    assert client_kwargs(s) == {"security_protocol": "PLAINTEXT"}
    assert faust_credentials(s) is None


def test_sasl_plaintext_scram(monkeypatch: pytest.MonkeyPatch) -> None:
    s = settings(
        monkeypatch,
        SECURITY_PROTOCOL="SASL_PLAINTEXT",
        SASL_MECHANISM="scram-sha-256",
        SASL_USERNAME="channelstream-onboarding",
        SASL_PASSWORD="s3cret",
    )
    assert client_kwargs(s) == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": "channelstream-onboarding",
        "sasl_plain_password": "s3cret",
    }
    creds = faust_credentials(s)
    assert isinstance(creds, faust.SASLCredentials)
    assert creds.protocol.value == "SASL_PLAINTEXT"
    assert creds.mechanism.value == "SCRAM-SHA-256"
    assert (creds.username, creds.password, creds.ssl_context) == (
        "channelstream-onboarding",
        "s3cret",
        None,
    )
    assert "s3cret" not in repr(s)


def test_sasl_ssl_with_password_file_and_cluster_ca(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ca_file: Path
) -> None:
    (tmp_path / "password").write_text("from-the-secret\n")
    s = settings(
        monkeypatch,
        SECURITY_PROTOCOL="SASL_SSL",
        SASL_USERNAME="channelstream-dealreg",
        SASL_PASSWORD_FILE=str(tmp_path / "password"),
        SSL_CAFILE=str(ca_file),
    )
    kwargs = client_kwargs(s)
    context = kwargs.pop("ssl_context")
    assert kwargs == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",  # the default: what the Strimzi KafkaUsers use
        "sasl_plain_username": "channelstream-dealreg",
        "sasl_plain_password": "from-the-secret",
    }
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "cluster-ca"),),)]
    creds = faust_credentials(s)
    assert isinstance(creds, faust.SASLCredentials)
    assert creds.protocol.value == "SASL_SSL"
    assert creds.mechanism.value == "SCRAM-SHA-512"
    assert isinstance(creds.ssl_context, ssl.SSLContext)


def test_ssl_only(monkeypatch: pytest.MonkeyPatch, ca_file: Path) -> None:
    s = settings(monkeypatch, SECURITY_PROTOCOL="ssl", SSL_CAFILE=str(ca_file))
    kwargs = client_kwargs(s)
    assert kwargs["security_protocol"] == "SSL" and set(kwargs) == {
        "security_protocol",
        "ssl_context",
    }
    creds = faust_credentials(s)
    assert isinstance(creds, faust.SSLCredentials)
    assert creds.protocol.value == "SSL"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SECURITY_PROTOCOL": "SASL"}, "SECURITY_PROTOCOL='SASL': expected one of PLAINTEXT"),
        (
            {"SECURITY_PROTOCOL": "SASL_SSL", "SASL_PASSWORD": "x"},
            "SECURITY_PROTOCOL=SASL_SSL needs CHANNELSTREAM_KAFKA_SASL_USERNAME",
        ),
        (
            {"SECURITY_PROTOCOL": "SASL_PLAINTEXT", "SASL_USERNAME": "u"},
            "needs CHANNELSTREAM_KAFKA_SASL_PASSWORD[_FILE]",
        ),
        (
            {"SECURITY_PROTOCOL": "SASL_PLAINTEXT", "SASL_MECHANISM": "GSSAPI"},
            "SASL_MECHANISM='GSSAPI': expected one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512",
        ),
        (
            {"SASL_USERNAME": "u", "SASL_PASSWORD": "p"},
            "SASL_USERNAME, CHANNELSTREAM_KAFKA_SASL_PASSWORD[_FILE] set, but "
            "CHANNELSTREAM_KAFKA_SECURITY_PROTOCOL is PLAINTEXT",
        ),
        (
            {"SSL_CAFILE": "/ca.crt"},
            "SSL_CAFILE set, but CHANNELSTREAM_KAFKA_SECURITY_PROTOCOL is PLAINTEXT: use SSL",
        ),
        (
            {"SASL_PASSWORD": "p", "SASL_PASSWORD_FILE": "/p"},
            "set CHANNELSTREAM_KAFKA_SASL_PASSWORD or CHANNELSTREAM_KAFKA_SASL_PASSWORD_FILE",
        ),
        (
            {"SECURITY_PROTOCOL": "SASL_SSL", "SASL_PASSWORD_FILE": "/nonexistent/password"},
            "SASL_PASSWORD_FILE=/nonexistent/password: No such file or directory",
        ),
        (
            {"SECURITY_PROTOCOL": "SSL", "SSL_CAFILE": "/nonexistent/ca.crt"},
            "SSL_CAFILE=/nonexistent/ca.crt:",
        ),
    ],
)
def test_invalid_combinations_fail_with_one_line(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    s = settings(monkeypatch, **env)
    for translate in (client_kwargs, faust_credentials):
        with pytest.raises(KafkaSecurityError) as caught:
            translate(s)
        assert message in str(caught.value)
        assert "\n" not in str(caught.value)
