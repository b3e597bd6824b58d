"""docker-compose.yml and the images: valid against the Compose Specification, and no drift from
the code — every service is built from services/, every CHANNELSTREAM_* variable that compose,
the Dockerfiles or the Kubernetes manifests set is read by the code, every port is the CLI's."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from channelstream_cli import stack
from channelstream_cli.client import DEFAULT_PORTS
from channelstream_common import settings as stack_ports

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
# schema/compose-spec.json of the Go module github.com/compose-spec/compose-go/v2@v2.16.2 (the
# library `docker compose` validates with), vendored verbatim
COMPOSE_SCHEMA = REPO / "deploy" / "docker" / "compose-spec.json"
COMPOSE_SCHEMA_SHA256 = "f266dcbb043229405d7cedd5aec918f9102c2b3d5e3850808fdd8edd564a43ff"
DOCKERFILE_TEMPLATE = REPO / "deploy" / "docker" / "service.Dockerfile.in"
VAR = re.compile(r"\bCHANNELSTREAM_[A-Z0-9_]+\b")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())  # resolves the `<<:` merge keys like compose does


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    raw = COMPOSE_SCHEMA.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == COMPOSE_SCHEMA_SHA256, "vendored schema was edited"
    schema = json.loads(raw)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def app_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The compose services built from services/<name>/Dockerfile."""
    return {
        name: svc
        for name, svc in compose["services"].items()
        if svc.get("build", {}).get("dockerfile", "").startswith("services/")
    }


def test_compose_file_matches_the_compose_specification(
    compose: dict[str, Any], validator: jsonschema.Draft202012Validator
) -> None:
    errors = [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(compose)
    ]
    assert not errors, "\n".join(errors)
    # and the schema does constrain: a misspelt key is refused
    broken = copy.deepcopy(compose)
    broken["services"]["kafka"]["healthcheck"]["intervall"] = "5s"
    assert not validator.is_valid(broken)


def test_every_service_is_built_from_the_repository(compose: dict[str, Any]) -> None:
    built = app_services(compose)
    with_dockerfile = {p.parent.name for p in (REPO / "services").glob("*/Dockerfile")}
    assert set(built) == with_dockerfile == set(DEFAULT_PORTS)
    for name, svc in compose["services"].items():
        if "build" in svc:
            assert svc["build"]["context"] == "."
            assert (REPO / svc["build"]["dockerfile"]).is_file(), name
    for name, svc in built.items():
        assert svc["build"]["dockerfile"] == f"services/{name}/Dockerfile"
        assert svc["image"].split(":")[0] == f"channelstream/{name}"
        assert svc["depends_on"]["provision"] == {"condition": "service_completed_successfully"}


@pytest.mark.parametrize("service", sorted(DEFAULT_PORTS))
def test_dockerfile_is_the_template_with_the_service_port(service: str) -> None:
    port = DEFAULT_PORTS[service]
    expected = (
        DOCKERFILE_TEMPLATE.read_text().replace("@SVC@", service).replace("@PORT@", str(port))
    )
    assert (REPO / "services" / service / "Dockerfile").read_text() == expected
    # the image's CMD is the service's console script
    project = tomllib.loads((REPO / "services" / service / "pyproject.toml").read_text())
    assert f"channelstream-{service}" in project["project"]["scripts"]
    assert f'CMD ["channelstream-{service}"]' in expected


def test_ports_match_the_cli_defaults(compose: dict[str, Any]) -> None:
    for name, svc in app_services(compose).items():
        port = DEFAULT_PORTS[name]
        assert svc["ports"] == [f"{port}:{port}"], name
        assert svc["environment"]["CHANNELSTREAM_HTTP_PORT"] == str(port), name
    # the infrastructure is published on the local stack's ports
    published = {
        name: int(svc["ports"][0].split(":")[0])
        for name, svc in compose["services"].items()
        if name in ("kafka", "registry", "postgres")
    }
    offset = stack_ports.PORT_OFFSET  # a rehearsal stack may run shifted beside the default one
    assert published == {
        "kafka": stack_ports.KAFKA_PORT - offset,
        "registry": stack_ports.REGISTRY_PORT - offset,
        "postgres": stack_ports.PG_PORT - offset,
    }


def test_infrastructure_matches_the_local_stack(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["kafka"]["image"] == f"apache/kafka:{stack.KAFKA_VERSION}"
    assert services["registry"]["image"] == f"apicurio/apicurio-registry:{stack.APICURIO_VERSION}"
    init = (REPO / "deploy" / "docker" / "postgres-init.sql").read_text()
    created = re.findall(r"^CREATE DATABASE (\w+);", init, re.MULTILINE)
    assert sorted(created) == sorted(stack.SERVICE_DATABASES) == sorted(DEFAULT_PORTS)
    assert services["provision"]["command"] == ["topics", "ensure"]
    assert services["provision"]["build"]["dockerfile"] == "deploy/docker/cli.Dockerfile"


# -- every CHANNELSTREAM_* variable set anywhere is read by the code ------------------------------


def _code() -> dict[Path, str]:
    files = [*(REPO / "libs").rglob("*.py"), *(REPO / "services").rglob("*.py")]
    return {p: p.read_text() for p in files if "tests" not in p.relative_to(REPO).parts}


def is_read(name: str, code: dict[Path, str]) -> bool:
    """Read as a literal name, through Settings (`_env("KEY", ...)`), or as a service-specific
    key (`settings.get("key", ...)` in services/<service>/ for CHANNELSTREAM_<SERVICE>_<KEY>)."""
    key = name.removeprefix("CHANNELSTREAM_")
    literal = re.compile(rf"""["']{name}["']""")
    via_settings = re.compile(rf"""\b_env\(\s*["']{key}["']""")
    if any(literal.search(text) or via_settings.search(text) for text in code.values()):
        return True
    for service in DEFAULT_PORTS:
        prefix = f"{service.upper()}_"
        if key.startswith(prefix):
            own = re.compile(rf"""\.get\(\s*["']{key.removeprefix(prefix)}["']""", re.IGNORECASE)
            folder = REPO / "services" / service
            return any(own.search(t) for p, t in code.items() if p.is_relative_to(folder))
    return False


def named_variables(compose: dict[str, Any], rendered: dict[str, list[dict[str, Any]]]) -> set[str]:
    names = set()
    for svc in compose["services"].values():
        names.update(k for k in svc.get("environment", {}) if k.startswith("CHANNELSTREAM_"))
    for dockerfile in [
        *(REPO / "services").glob("*/Dockerfile"),
        *(REPO / "deploy").rglob("*Dockerfile*"),
    ]:
        names.update(VAR.findall(dockerfile.read_text()))
    for docs in rendered.values():
        for doc in docs:
            if doc["kind"] == "ConfigMap":
                names.update(k for k in doc["data"] if k.startswith("CHANNELSTREAM_"))
            if doc["kind"] in ("Deployment", "Job"):
                for container in doc["spec"]["template"]["spec"]["containers"]:
                    names.update(e["name"] for e in container.get("env", []))
    return names


def test_every_configured_variable_is_read_by_the_code(
    compose: dict[str, Any], rendered: dict[str, list[dict[str, Any]]]
) -> None:
    code = _code()
    names = named_variables(compose, rendered)
    assert {"CHANNELSTREAM_KAFKA_BOOTSTRAP", "CHANNELSTREAM_DATABASE_URL"} <= names
    unread = sorted(n for n in names if not is_read(n, code))
    assert not unread, f"set in compose/Dockerfiles/k8s but read nowhere in the code: {unread}"
    # the check itself tells read from unread
    assert not is_read("CHANNELSTREAM_NOT_A_SETTING", code)
    assert not is_read("CHANNELSTREAM_DEALREG_NOT_A_KEY", code)
