"""The Kubernetes manifests under deploy/: valid for the API server, and true to the bot.

kubernetes-validate checks each resource against the API's own schema, strictly (an unknown
field, such as a misspelt probe, fails). The rest holds the manifests to the code: settings the
bot reads, the port it listens on, the path it answers health on, its shutdown budget.
"""

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from bot.jobs.shutdown import SHUTDOWN_BUDGET_SECONDS
from bot.ops.config import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = sorted((ROOT / "deploy").glob("*.yaml"))
# The oldest Kubernetes still in common managed support, and the newest the validator knows.
VERSIONS = ("1.30.0", kubernetes_validate.latest_version())


def resources() -> list[dict[str, Any]]:
    found = []
    for path in MANIFESTS:
        found.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return found


def the(kind: str) -> dict[str, Any]:
    matches = [resource for resource in resources() if resource["kind"] == kind]
    assert len(matches) == 1, f"deploy/ should hold one {kind}, found {len(matches)}"
    return matches[0]


def container() -> dict[str, Any]:
    (bot,) = the("Deployment")["spec"]["template"]["spec"]["containers"]
    return bot


def test_deploy_holds_the_resources_a_cluster_needs() -> None:
    assert MANIFESTS, "deploy/ has no manifests"
    kinds = sorted(resource["kind"] for resource in resources())
    assert kinds == ["Deployment", "PodDisruptionBudget", "Secret", "Service"]


@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_validates_strictly(version: str) -> None:
    for resource in resources():
        kubernetes_validate.validate(resource, version, strict=True)


def test_the_validator_rejects_a_misspelt_field() -> None:
    """The check above can fail: a probe under a wrong name is refused."""
    broken = copy.deepcopy(the("Deployment"))
    (bot,) = broken["spec"]["template"]["spec"]["containers"]
    bot["readinesProbe"] = bot.pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[-1], strict=True)


def test_manifests_set_only_settings_the_bot_reads() -> None:
    env = {item["name"] for item in container().get("env", [])}
    secret = the("Secret")
    secret_keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
    unknown = sorted((env | secret_keys) - set(SETTINGS))
    assert not unknown, f"deploy/ sets settings the bot never reads: {unknown}"
    assert {"SLACK_SIGNING_SECRET", "TRANSITION_SECRET_KEY", "DATABASE_URL"} <= secret_keys
    refs = [source["secretRef"]["name"] for source in container().get("envFrom", [])]
    assert refs == [secret["metadata"]["name"]]


def test_the_secret_holds_placeholders_only() -> None:
    secret = the("Secret")
    assert "data" not in secret, "base64 data hides what is committed: use stringData"
    for name, value in secret["stringData"].items():
        assert value == "" or "REPLACE_ME" in value, f"{name} looks like a real value"


def test_replicas_share_postgresql() -> None:
    """Leases and the outbox need one shared database; SQLite would give each pod its own."""
    assert the("Secret")["stringData"]["DATABASE_URL"].startswith("postgresql://")
    assert the("Deployment")["spec"]["replicas"] >= 2


def test_probes_ask_healthz_on_the_port_the_bot_listens_on() -> None:
    bot = container()
    port = next(item["value"] for item in bot["env"] if item["name"] == "PORT")
    (http,) = bot["ports"]
    assert http["containerPort"] == int(port)
    # readiness follows the database; liveness never does (a database outage would otherwise
    # restart every replica at once)
    for probe, path in (
        ("startupProbe", "/healthz"),
        ("readinessProbe", "/healthz"),
        ("livenessProbe", "/livez"),
    ):
        get = bot[probe]["httpGet"]
        assert get["path"] == path, probe
        assert get["port"] in (http["name"], http["containerPort"]), probe
    live, ready = bot["livenessProbe"], bot["readinessProbe"]
    # A replica leaves the Service well before it would be restarted.
    assert live["periodSeconds"] * live["failureThreshold"] > 4 * (
        ready["periodSeconds"] * ready["failureThreshold"]
    )


def test_grace_period_covers_the_shutdown_budget() -> None:
    pod = the("Deployment")["spec"]["template"]["spec"]
    pre_stop = container()["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    assert pod["terminationGracePeriodSeconds"] > float(pre_stop[1]) + SHUTDOWN_BUDGET_SECONDS


def test_service_and_budget_select_the_deployments_pods() -> None:
    labels = the("Deployment")["spec"]["template"]["metadata"]["labels"]
    assert the("Deployment")["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert the("Service")["spec"]["selector"].items() <= labels.items()
    budget = the("PodDisruptionBudget")["spec"]
    assert budget["selector"]["matchLabels"].items() <= labels.items()
    assert budget.get("maxUnavailable", 0) < the("Deployment")["spec"]["replicas"]
    (http,) = container()["ports"]
    (port,) = the("Service")["spec"]["ports"]
    assert port["targetPort"] in (http["name"], http["containerPort"])


def test_the_container_runs_locked_down() -> None:
    pod = the("Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert container()["securityContext"]["allowPrivilegeEscalation"] is False
