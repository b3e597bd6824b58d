"""deploy/k8s: both overlays render, core resources are valid Kubernetes (OpenAPI schemas of the
pinned versions), custom resources match their operators' schemas, and the manifests agree with
the code: topic registry, topic ownership, ports, health endpoints, consumer groups, settings."""

from __future__ import annotations

import copy
import functools
import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml
from channelstream_cli.client import DEFAULT_PORTS
from channelstream_common import k8s_manifests, migrations
from channelstream_common.kafka_security import resolve
from channelstream_common.settings import Settings
from channelstream_common.stream import OFFSET_RESET, consumer_group
from channelstream_common.topics import ALL_TOPICS, EVENT_TOPICS, EXTERNAL

REPO = Path(__file__).resolve().parents[2]
OVERLAYS = ("dev", "prod")
SERVICES = tuple(DEFAULT_PORTS)
# oldest supported (preStop `sleep` needs 1.30+) and newest kubernetes-validate ships
K8S_VERSIONS = ("1.31.0", "1.34.0")
CUSTOM_KINDS = {
    ("kafka.strimzi.io/v1", "KafkaTopic"),
    ("kafka.strimzi.io/v1", "KafkaUser"),
    ("keda.sh/v1alpha1", "ScaledObject"),
    ("keda.sh/v1alpha1", "TriggerAuthentication"),
}
# CRDs of KEDA v2.21.0, verbatim from the Go module github.com/kedacore/keda/v2 (config/crd/bases)
KEDA_CRDS = {
    "ScaledObject": (
        REPO / "tests" / "deploy" / "schemas" / "keda.sh_scaledobjects.yaml",
        "af35555862a83933b074af14ad439c4b4ceabaf4daa3e9338e9b23e36d308d80",
    ),
    "TriggerAuthentication": (
        REPO / "tests" / "deploy" / "schemas" / "keda.sh_triggerauthentications.yaml",
        "ed59ab37b2fa9a18119484a3dbd849b0b18ed25e1aea91d9f1305d4da2215bd8",
    ),
}
# the Strimzi cluster CA (copied into the application namespace, see deploy/k8s/README.md)
CLUSTER_CA = (f"{k8s_manifests.CLUSTER}-cluster-ca-cert", "ca.crt")
# KEDA's kafka scaler names the SASL mechanisms its own way
KEDA_SASL = {"PLAIN": "plaintext", "SCRAM-SHA-256": "scram_sha256", "SCRAM-SHA-512": "scram_sha512"}
# Strimzi's published CRDs are not in any package registry; their enums, from the v1 API docs
STRIMZI_ACL_RESOURCES = {"topic", "group", "cluster", "transactionalId"}
STRIMZI_ACL_OPERATIONS = {
    "Read",
    "Write",
    "Create",
    "Delete",
    "Alter",
    "Describe",
    "ClusterAction",
    "AlterConfigs",
    "DescribeConfigs",
    "IdempotentWrite",
    "All",
}

Doc = dict[str, Any]


def find(docs: list[Doc], kind: str, name: str) -> Doc:
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def container_env(docs: list[Doc], container: Doc) -> dict[str, Any]:
    """A container's environment: ConfigMaps from envFrom (resolved) overlaid with `env`."""
    env: dict[str, Any] = {}
    for source in container.get("envFrom", []):
        env.update(find(docs, "ConfigMap", source["configMapRef"]["name"])["data"])
    for item in container.get("env", []):
        env[item["name"]] = item.get("value", item.get("valueFrom"))
    return env


def pod_spec(doc: Doc) -> Doc:
    return doc["spec"]["template"]["spec"]


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


@functools.cache
def group_of(service: str) -> str:
    return consumer_group(Settings(service=service))


# -- generated Strimzi manifests -------------------------------------------------------------


def test_generated_kafka_manifests_are_current() -> None:
    for path, text in k8s_manifests.outputs(REPO).items():
        assert path.read_text() == text, (
            f"{path.relative_to(REPO)} is stale: "
            "uv run python -m channelstream_common.k8s_manifests --write"
        )
    assert k8s_manifests.main(["--check"]) == 0


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_topics_equal_the_registry(rendered: dict[str, list[Doc]], overlay: str) -> None:
    topics = {d["spec"]["topicName"]: d for d in of_kind(rendered[overlay], "KafkaTopic")}
    assert set(topics) == {t.name for t in ALL_TOPICS}
    replicas = {"dev": 1, "prod": 3}[overlay]
    for topic in ALL_TOPICS:
        doc = topics[topic.name]
        assert doc["metadata"]["name"] == topic.name
        assert doc["metadata"]["labels"]["strimzi.io/cluster"] == k8s_manifests.CLUSTER
        assert doc["spec"]["partitions"] == topic.partitions
        assert doc["spec"]["replicas"] == replicas
        config = dict(doc["spec"]["config"])
        if overlay == "prod":
            assert config.pop("min.insync.replicas") == "2"
        assert config == topic.config
        assert config == {"retention.ms": "-1", "cleanup.policy": "delete"}


def _acls(user: Doc) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for acl in user["spec"]["authorization"]["acls"]:
        key = (acl["resource"]["type"], acl["resource"]["name"])
        out.setdefault(key, set()).update(acl["operations"])
    return out


def _topics_with(acls: dict[tuple[str, str], set[str]], operation: str) -> set[str]:
    return {name for (kind, name), ops in acls.items() if kind == "topic" and operation in ops}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_user_acls_follow_topic_ownership(
    rendered: dict[str, list[Doc]], overlay: str
) -> None:
    users = {d["metadata"]["name"]: d for d in of_kind(rendered[overlay], "KafkaUser")}
    expected = {f"channelstream-{s}" for s in SERVICES} | {EXTERNAL, "channelstream-cli"}
    assert set(users) == expected
    event_topics = {t.name for t in EVENT_TOPICS}
    for service in SERVICES:
        acls = _acls(users[f"channelstream-{service}"])
        assert _topics_with(acls, "Write") == {t.name for t in ALL_TOPICS if t.owner == service}
        assert _topics_with(acls, "Read") == event_topics
        groups = {name: ops for (kind, name), ops in acls.items() if kind == "group"}
        assert groups == {group_of(service): {"Read"}}
        assert {kind for kind, _ in acls} == {"topic", "group"}
    intake = _acls(users[EXTERNAL])
    assert _topics_with(intake, "Write") == {t.name for t in ALL_TOPICS if t.owner == EXTERNAL}
    assert all(ops == {"Write", "Describe"} for ops in intake.values())
    assert {kind for kind, _ in intake} == {"topic"}
    cli = _acls(users["channelstream-cli"])
    assert set().union(*cli.values()) == {"Describe", "DescribeConfigs"}
    # single writer, cluster-wide
    for topic in ALL_TOPICS:
        writers = {
            name for name, user in users.items() if topic.name in _topics_with(_acls(user), "Write")
        }
        owner = EXTERNAL if topic.owner == EXTERNAL else f"channelstream-{topic.owner}"
        assert writers == {owner}, topic.name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_strimzi_resources_are_well_formed(rendered: dict[str, list[Doc]], overlay: str) -> None:
    for doc in of_kind(rendered[overlay], "KafkaTopic"):
        assert set(doc["spec"]) == {"topicName", "partitions", "replicas", "config"}
        assert isinstance(doc["spec"]["partitions"], int) and doc["spec"]["partitions"] > 0
        assert all(isinstance(v, str) for v in doc["spec"]["config"].values())
    for doc in of_kind(rendered[overlay], "KafkaUser"):
        assert doc["metadata"]["labels"]["strimzi.io/cluster"] == k8s_manifests.CLUSTER
        assert doc["spec"]["authentication"] == {"type": "scram-sha-512"}
        assert doc["spec"]["authorization"]["type"] == "simple"
        for acl in doc["spec"]["authorization"]["acls"]:
            assert set(acl) == {"resource", "operations"}  # `operation` is gone in v1
            assert acl["resource"]["type"] in STRIMZI_ACL_RESOURCES
            assert acl["resource"]["patternType"] == "literal"
            assert set(acl["operations"]) <= STRIMZI_ACL_OPERATIONS


# -- schema validation -------------------------------------------------------------------------


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_core_resources_match_the_kubernetes_openapi_schemas(
    rendered: dict[str, list[Doc]], overlay: str, version: str
) -> None:
    errors = []
    kinds = set()
    for doc in rendered[overlay]:
        kind = (doc["apiVersion"], doc["kind"])
        kinds.add(kind)
        if kind in CUSTOM_KINDS:
            continue
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            errors.append(f"{name}: {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            errors.append(f"{name}: {exc.message}")
    assert not errors, "\n".join(errors)
    assert {
        ("apps/v1", "Deployment"),
        ("batch/v1", "Job"),
        ("v1", "Service"),
        ("v1", "ConfigMap"),
        ("policy/v1", "PodDisruptionBudget"),
        ("networking.k8s.io/v1", "NetworkPolicy"),
    } | CUSTOM_KINDS == kinds


def _strict(schema: Any) -> Any:
    """A CRD's structural schema, refusing unknown fields (the API server would prune them)."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items() if not k.startswith("x-kubernetes-")}
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


@pytest.mark.parametrize("kind", sorted(KEDA_CRDS))
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_keda_resources_match_the_keda_crds(
    rendered: dict[str, list[Doc]], overlay: str, kind: str
) -> None:
    path, sha256 = KEDA_CRDS[kind]
    raw = path.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == sha256, f"vendored KEDA CRD {path.name} was edited"
    crd = yaml.safe_load(raw)
    assert crd["spec"]["names"]["kind"] == kind
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1"]
    schema = _strict(copy.deepcopy(served["schema"]["openAPIV3Schema"]))
    validator = jsonschema.Draft4Validator(schema)
    docs = of_kind(rendered[overlay], kind)
    assert len(docs) == len(SERVICES)
    for doc in docs:
        errors = [f"{'.'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(doc)]
        assert not errors, f"{kind}/{doc['metadata']['name']}: {errors}"


# -- per service --------------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_deployment(rendered: dict[str, list[Doc]], overlay: str, service: str) -> None:
    docs = rendered[overlay]
    port = DEFAULT_PORTS[service]
    deployment = find(docs, "Deployment", service)
    spec = pod_spec(deployment)
    (container,) = spec["containers"]
    image, _, tag = container["image"].partition(":")
    assert image == f"channelstream/{service}" and tag and tag != "latest"
    assert "command" not in container and "args" not in container  # the image's CMD
    assert container["ports"] == [{"name": "http", "containerPort": port}]
    assert set(container["resources"]) == {"requests", "limits"}
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    for probe, path in (("livenessProbe", "/health/live"), ("readinessProbe", "/health/ready")):
        assert container[probe]["httpGet"] == {"path": path, "port": "http"}
    # SIGTERM after the pod left the endpoints, with time for Faust to commit offsets
    assert container["lifecycle"]["preStop"]["sleep"]["seconds"] > 0
    grace = spec["terminationGracePeriodSeconds"]
    assert grace >= container["lifecycle"]["preStop"]["sleep"]["seconds"] + 30
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] == 10001
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    assert "replicas" not in deployment["spec"]  # KEDA owns it


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_configuration_and_secret_reference(
    rendered: dict[str, list[Doc]], overlay: str, service: str
) -> None:
    docs = rendered[overlay]
    (container,) = pod_spec(find(docs, "Deployment", service))["containers"]
    env = container_env(docs, container)
    assert env["CHANNELSTREAM_HTTP_HOST"] == "0.0.0.0"
    assert env["CHANNELSTREAM_HTTP_PORT"] == str(DEFAULT_PORTS[service])
    assert env["CHANNELSTREAM_LOG_JSON"] == "true"
    assert env["CHANNELSTREAM_SCHEMA_REGISTRY_URL"].endswith("/apis/ccompat/v7")
    assert env["CHANNELSTREAM_OTLP_ENDPOINT"].endswith("/v1/traces")
    assert ":" in env["CHANNELSTREAM_KAFKA_BOOTSTRAP"]
    assert env["CHANNELSTREAM_DATABASE_URL"] == {
        "secretKeyRef": {"name": f"{service}-database", "key": "url"}
    }
    # what the service reads from that environment
    plain = {k: v for k, v in env.items() if isinstance(v, str)}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in plain.items():
            mp.setenv(key, value)
        settings = Settings.from_env(service)
    assert settings.http_port == DEFAULT_PORTS[service]
    assert settings.kafka_bootstrap == env["CHANNELSTREAM_KAFKA_BOOTSTRAP"]
    assert settings.topic_prefix == ""  # a cluster uses the real topic names


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_literal_secrets(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    assert not of_kind(docs, "Secret")
    for doc in of_kind(docs, "Deployment") + of_kind(docs, "Job"):
        for container in pod_spec(doc)["containers"]:
            env = container_env(docs, container)
            for name, value in env.items():
                if isinstance(value, str):
                    assert "PASSWORD" not in name and "SECRET" not in name, name
                    assert not urlsplit(value).password, f"{name} carries a credential"
            if "CHANNELSTREAM_DATABASE_URL" in env:
                assert "secretKeyRef" in env["CHANNELSTREAM_DATABASE_URL"]


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_service_and_disruption_budget_select_the_service_pods_only(
    rendered: dict[str, list[Doc]], overlay: str, service: str
) -> None:
    docs = rendered[overlay]
    labels = find(docs, "Deployment", service)["spec"]["template"]["metadata"]["labels"]
    migration = find(docs, "Job", f"{service}-migrate")["spec"]["template"]["metadata"]["labels"]
    svc = find(docs, "Service", service)
    assert svc["spec"]["ports"] == [
        {"name": "http", "port": DEFAULT_PORTS[service], "targetPort": "http"}
    ]
    pdb = find(docs, "PodDisruptionBudget", service)
    for selector in (svc["spec"]["selector"], pdb["spec"]["selector"]["matchLabels"]):
        assert selects(selector, labels) and not selects(selector, migration)
    deployment = find(docs, "Deployment", service)
    assert deployment["spec"]["selector"]["matchLabels"] == svc["spec"]["selector"]


Peer = tuple[str | None, frozenset[tuple[str, str]]]  # (namespace or None = own, pod labels)


def _key(namespace: str | None, labels: dict[str, str]) -> Peer:
    return namespace, frozenset(labels.items())


def _egress(policy: Doc) -> dict[Peer, set[tuple[str, int]]]:
    """{peer: {(protocol, port)}}; one peer per rule, no peer twice."""
    out: dict[Peer, set[tuple[str, int]]] = {}
    for rule in policy["egress"]:
        (to,) = rule["to"]
        namespace = to.get("namespaceSelector", {}).get("matchLabels", {})
        assert set(namespace) <= {"kubernetes.io/metadata.name"}
        peer = _key(namespace.get("kubernetes.io/metadata.name"), to["podSelector"]["matchLabels"])
        assert peer not in out
        out[peer] = {(p["protocol"], p["port"]) for p in rule["ports"]}
    return out


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url if "://" in url else f"//{url}")
    assert parts.hostname and parts.port
    return parts.hostname, parts.port


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policy(rendered: dict[str, list[Doc]], overlay: str, service: str) -> None:
    docs = rendered[overlay]
    deployment = find(docs, "Deployment", service)
    (container,) = pod_spec(deployment)["containers"]
    env = container_env(docs, container)
    policy = find(docs, "NetworkPolicy", service)["spec"]
    assert policy["podSelector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    assert sorted(policy["policyTypes"]) == ["Egress", "Ingress"]
    assert policy["ingress"] == [{"ports": [{"protocol": "TCP", "port": DEFAULT_PORTS[service]}]}]

    kafka_host, kafka_port = _host_port(env["CHANNELSTREAM_KAFKA_BOOTSTRAP"])
    registry_host, registry_port = _host_port(env["CHANNELSTREAM_SCHEMA_REGISTRY_URL"])
    otel_host, otel_port = _host_port(env["CHANNELSTREAM_OTLP_ENDPOINT"])
    # <service>.<namespace>.svc: the policy's namespace is the one the configured host is in
    kafka_pods = {"strimzi.io/cluster": k8s_manifests.CLUSTER, "strimzi.io/kind": "Kafka"}
    kafka = _key(kafka_host.split(".")[1], kafka_pods)
    registry = _key(registry_host.split(".")[1], {"app.kubernetes.io/name": "apicurio-registry"})
    database = _key(None, {"channelstream.io/database": service})
    dns = _key("kube-system", {"k8s-app": "kube-dns"})
    otel = _key(otel_host.split(".")[1], {"app.kubernetes.io/name": "otel-collector"})
    assert _egress(policy) == {
        kafka: {("TCP", kafka_port)},
        registry: {("TCP", registry_port)},
        database: {("TCP", 5432)},
        dns: {("UDP", 53), ("TCP", 53)},
        otel: {("TCP", otel_port)},
    }

    migrate = find(docs, "NetworkPolicy", f"{service}-migrate")["spec"]
    job = find(docs, "Job", f"{service}-migrate")
    job_labels = job["spec"]["template"]["metadata"]["labels"]
    assert selects(migrate["podSelector"]["matchLabels"], job_labels)
    assert "ingress" not in migrate and "Ingress" in migrate["policyTypes"]
    assert set(_egress(migrate)) == {database, dns}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_namespace_denies_by_default(rendered: dict[str, list[Doc]], overlay: str) -> None:
    deny = find(rendered[overlay], "NetworkPolicy", "default-deny")["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_scaled_object_scales_on_the_faust_consumer_group(
    rendered: dict[str, list[Doc]], overlay: str, service: str
) -> None:
    docs = rendered[overlay]
    scaled = find(docs, "ScaledObject", service)["spec"]
    (container,) = pod_spec(find(docs, "Deployment", service))["containers"]
    env = container_env(docs, container)
    assert scaled["scaleTargetRef"] == {"name": service}
    (trigger,) = scaled["triggers"]
    assert trigger["type"] == "kafka"
    meta = trigger["metadata"]
    assert meta["consumerGroup"] == group_of(service)
    assert meta["bootstrapServers"] == env["CHANNELSTREAM_KAFKA_BOOTSTRAP"]
    assert meta["offsetResetPolicy"] == OFFSET_RESET
    assert int(meta["lagThreshold"]) > 0
    most_partitions = max(t.partitions for t in EVENT_TOPICS)
    assert 1 <= scaled["minReplicaCount"] <= scaled["maxReplicaCount"] <= most_partitions


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_migration_job(
    rendered: dict[str, list[Doc]],
    overlay: str,
    service: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    docs = rendered[overlay]
    job = find(docs, "Job", f"{service}-migrate")
    spec = pod_spec(job)
    (container,) = spec["containers"]
    deployment = pod_spec(find(docs, "Deployment", service))
    assert container["image"] == deployment["containers"][0]["image"]
    assert spec["restartPolicy"] == "Never"
    assert spec["securityContext"] == deployment["securityContext"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    env = container_env(docs, container)
    secret = {"secretKeyRef": {"name": f"{service}-database", "key": "url"}}
    assert env == {"CHANNELSTREAM_DATABASE_URL": secret}
    command = container["command"]
    assert command[:2] == ["python", "-c"]
    code = compile(command[2], f"{service}-migrate", "exec")

    package_dir = REPO / "services" / service / service
    if not (package_dir / "migrations" / "env.py").exists():
        pytest.skip(f"{service} has no migrations yet")
    calls: list[tuple[str, Path]] = []
    monkeypatch.setattr(migrations, "upgrade", lambda url, path: calls.append((url, path)))
    monkeypatch.setenv("CHANNELSTREAM_DATABASE_URL", "postgresql+psycopg://u@db/x")
    exec(code, {})
    ((url, path),) = calls
    assert url == "postgresql+psycopg://u@db/x"
    assert Path(path).resolve() == (package_dir / "migrations").resolve()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_provisioning_job(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    spec = pod_spec(find(docs, "Job", "channelstream-provision"))
    (container,) = spec["containers"]
    image, _, tag = container["image"].partition(":")
    assert image == "channelstream/cli" and tag
    assert container["args"] == ["topics", "ensure"] and "command" not in container
    env = container_env(docs, container)
    onboarding = pod_spec(find(docs, "Deployment", "onboarding"))["containers"][0]
    service_env = container_env(docs, onboarding)
    for key in ("CHANNELSTREAM_KAFKA_BOOTSTRAP", "CHANNELSTREAM_SCHEMA_REGISTRY_URL"):
        assert env[key] == service_env[key]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert spec["securityContext"]["runAsUser"] == 10001
    policy = find(docs, "NetworkPolicy", "channelstream-provision")["spec"]
    job_labels = find(docs, "Job", "channelstream-provision")["spec"]["template"]["metadata"]
    assert selects(policy["podSelector"]["matchLabels"], job_labels["labels"])
    assert "ingress" not in policy
    assert {namespace for namespace, _ in _egress(policy)} == {"kafka", "kube-system"}


def kafka_client_auth(docs: list[Doc], workload: Doc, user: str) -> dict[str, Any]:
    """Checks that a workload's Kafka clients log in as KafkaUser `user` over SASL_SSL with the
    password from that user's Secret and the cluster CA mounted as a file; returns its env."""
    spec = pod_spec(workload)
    (container,) = spec["containers"]
    env = container_env(docs, container)
    kafka_user = find(docs, "KafkaUser", user)
    assert kafka_user["spec"]["authentication"] == {"type": "scram-sha-512"}
    assert env["CHANNELSTREAM_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert env["CHANNELSTREAM_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert env["CHANNELSTREAM_KAFKA_SASL_USERNAME"] == user
    password = {"secretKeyRef": {"name": user, "key": "password"}}
    assert env["CHANNELSTREAM_KAFKA_SASL_PASSWORD"] == password
    cafile = Path(env["CHANNELSTREAM_KAFKA_SSL_CAFILE"])
    (mount,) = [m for m in container["volumeMounts"] if Path(m["mountPath"]) == cafile.parent]
    assert mount.get("readOnly") is True
    (volume,) = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    assert volume["secret"]["secretName"] == CLUSTER_CA[0]
    assert volume["secret"]["items"] == [{"key": CLUSTER_CA[1], "path": cafile.name}]
    # and the code accepts the combination
    plain = {k: v for k, v in env.items() if isinstance(v, str)}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in {**plain, "CHANNELSTREAM_KAFKA_SASL_PASSWORD": "from-secret"}.items():
            mp.setenv(key, value)
        security = resolve(Settings.from_env("cli"))
    assert (security.protocol, security.username) == ("SASL_SSL", user)
    return env


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_service_authenticates_to_kafka_as_its_kafka_user(
    rendered: dict[str, list[Doc]], overlay: str, service: str
) -> None:
    docs = rendered[overlay]
    deployment = find(docs, "Deployment", service)
    env = kafka_client_auth(docs, deployment, k8s_manifests.user_name(service))
    # KEDA reads the group's lag with the same credentials
    (trigger,) = find(docs, "ScaledObject", service)["spec"]["triggers"]
    assert trigger["metadata"]["sasl"] == KEDA_SASL[env["CHANNELSTREAM_KAFKA_SASL_MECHANISM"]]
    assert trigger["metadata"]["tls"] == "enable"
    auth = find(docs, "TriggerAuthentication", trigger["authenticationRef"]["name"])["spec"]
    (container,) = pod_spec(deployment)["containers"]
    assert auth["env"] == [
        {
            "parameter": "username",
            "name": "CHANNELSTREAM_KAFKA_SASL_USERNAME",
            "containerName": container["name"],
        }
    ]
    password = env["CHANNELSTREAM_KAFKA_SASL_PASSWORD"]["secretKeyRef"]
    assert auth["secretTargetRef"] == [
        {"parameter": "password", **password},
        {"parameter": "ca", "name": CLUSTER_CA[0], "key": CLUSTER_CA[1]},
    ]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_provisioning_job_authenticates_as_the_cli_user(
    rendered: dict[str, list[Doc]], overlay: str
) -> None:
    docs = rendered[overlay]
    job = find(docs, "Job", "channelstream-provision")
    kafka_client_auth(docs, job, k8s_manifests.CLI_USER)


def test_overlays_differ_only_where_intended(rendered: dict[str, list[Doc]]) -> None:
    namespaces = {
        overlay: {d["metadata"].get("namespace") for d in docs}
        for overlay, docs in rendered.items()
    }
    assert namespaces == {"dev": {"channelstream-dev"}, "prod": {"channelstream"}}
    prod_min = {d["spec"]["minReplicaCount"] for d in of_kind(rendered["prod"], "ScaledObject")}
    assert prod_min == {2}  # with maxUnavailable 1, a drain never takes a service down
