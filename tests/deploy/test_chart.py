"""The Helm chart, rendered by Helm's own template engine and validated against Kubernetes' schemas.

helm-python-sdk embeds Helm's Go SDK (4.2 in release 0.2.2), so the templates render exactly as
`helm template` would, with no helm binary and no cluster. kubernetes-validate bundles the
OpenAPI schemas of each Kubernetes release; "strict" schemas also reject unknown fields.
"""

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python
import kubernetes_validate
import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands, load_command_class

ROOT = Path(settings.BASE_DIR)
CHART = ROOT / "helm" / "suivi-social"
PRODUCTION_VALUES = CHART / "ci" / "production-values.yaml"
RELEASE = "suivi"
NAMESPACE = "suivi-social"
# The oldest release the chart supports (Chart.yaml's kubeVersion: CronJob's timeZone is GA
# from 1.27) and the newest whose schemas kubernetes-validate bundles.
KUBERNETES_VERSIONS = ["1.27.0", kubernetes_validate.latest_version()]

# The minimum values of a release: everything else has a default.
MINIMAL_VALUES: dict[str, Any] = {
    "image": {"repository": "registry.example.org/suivi-social"},
    "config": {
        "BASE_DOMAIN": "suivi.example.org",
        "OIDC_OP_ISSUER": "https://proconnect.example.org/api/v2",
        "OIDC_RP_CLIENT_ID": "suivi-social",
    },
    "secrets": {"existingSecret": "suivi-social"},
    "media": {"existingClaim": "suivi-social-media"},
}
SECRET_VARIABLES = {
    "DJANGO_SECRET_KEY",
    "DATABASE_URL",
    "OIDC_RP_CLIENT_SECRET",
    "EMAIL_HOST_PASSWORD",
    "AWS_S3_ACCESS_KEY_ID",
    "AWS_S3_SECRET_ACCESS_KEY",
    "SENTRY_DSN",
    "REDIS_URL",
}
# The one writable folder of the read-only root filesystem.
TMP = "/tmp"  # noqa: S108
# Management commands meant to run periodically, each of which needs a CronJob.
PERIODIC_COMMANDS = {
    "send_daily_digest",
    "apply_retention",
    "refresh_national_statistics",
    "build_template_schema",
}


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` with ``override`` merged in, as Helm merges values files."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def render(values: dict[str, Any], *, upgrade: bool = False) -> list[dict[str, Any]]:
    """Render the chart as `helm template` does and return its manifests."""
    with helm_python.Chart.load(str(CHART)) as chart:
        rendered = chart.render(
            values, name=RELEASE, namespace=NAMESPACE, is_install=not upgrade, is_upgrade=upgrade
        )
    manifests = []
    for path, text in sorted(rendered.items()):
        if path.endswith(".txt"):
            continue
        manifests.extend(document for document in yaml.safe_load_all(text) if document)
    return manifests


def of_kind(manifests: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [manifest for manifest in manifests if manifest["kind"] == kind]


def pod_specs(manifests: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (resource name, pod template) for every resource that runs pods."""
    for manifest in manifests:
        if manifest["kind"] in {"Deployment", "Job"}:
            yield manifest["metadata"]["name"], manifest["spec"]["template"]
        elif manifest["kind"] == "CronJob":
            template = manifest["spec"]["jobTemplate"]["spec"]["template"]
            yield manifest["metadata"]["name"], template


def containers(manifests: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, template in pod_specs(manifests):
        for container in template["spec"]["containers"]:
            yield name, container


def web_deployment(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    (deployment,) = of_kind(manifests, "Deployment")
    return deployment


@pytest.fixture(scope="module")
def production_values() -> dict[str, Any]:
    return yaml.safe_load(PRODUCTION_VALUES.read_text())


@pytest.fixture(scope="module", params=["minimal", "production"])
def manifests(request, production_values) -> list[dict[str, Any]]:
    values = MINIMAL_VALUES if request.param == "minimal" else production_values
    return render(values)


@pytest.fixture(scope="module")
def production(production_values) -> list[dict[str, Any]]:
    return render(production_values)


def test_default_values_name_what_is_missing():
    with pytest.raises(helm_python.HelmRenderError, match="is required"):
        render({})


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ({"image": {"repository": ""}}, "image.repository is required"),
        ({"config": {"BASE_DOMAIN": ""}}, "config.BASE_DOMAIN is required"),
        ({"config": {"OIDC_OP_ISSUER": ""}}, "config.OIDC_OP_ISSUER is required"),
        ({"secrets": {"existingSecret": ""}}, "secrets.existingSecret is required"),
        ({"secrets": {"variables": {"DATABASE_URL": ""}}}, "DATABASE_URL is required"),
        ({"media": {"existingClaim": ""}}, "Uploaded documents need storage"),
        ({"migrations": {"parallel": 4}}, "replaced by config.MIGRATION_PROCESSES"),
        ({"secrets": {"mode": "plain"}}, 'secrets.mode must be "file" or "env"'),
        ({"config": {"SENTRY_DSN": "https://key@sentry.example.org/1"}}, "in both config and"),
    ],
)
def test_invalid_values_fail_with_reason(missing, message):
    values = merge(MINIMAL_VALUES, missing)
    if "SENTRY_DSN" in values["config"]:
        values["secrets"]["variables"] = {"SENTRY_DSN": "sentry-dsn"}

    with pytest.raises(helm_python.HelmRenderError, match=message):
        render(values)


def test_lint_reports_no_warning():
    report = helm_python.lint(str(CHART), MINIMAL_VALUES, strict=True)
    # Severity 1 is information, such as Helm's advice to add an icon.
    findings = [message for message in report["messages"] if message["severity"] > 1]

    assert report["errors"] == []
    assert findings == []


@pytest.mark.parametrize("kubernetes_version", KUBERNETES_VERSIONS)
def test_manifests_match_kubernetes_schemas(manifests, kubernetes_version):
    for manifest in manifests:
        kubernetes_validate.validate(manifest, kubernetes_version, strict=True)


def test_upgrade_renders_the_same_resources(production_values, production):
    upgrade = render(production_values, upgrade=True)

    assert [item["metadata"]["name"] for item in upgrade] == [
        item["metadata"]["name"] for item in production
    ]


def test_release_has_expected_resources(manifests):
    kinds = sorted(manifest["kind"] for manifest in manifests)

    assert kinds == sorted(
        [
            "CronJob",
            "CronJob",
            "CronJob",
            "CronJob",
            "Deployment",
            "HorizontalPodAutoscaler",
            "Ingress",
            "Job",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "Service",
            "ServiceAccount",
            "ServiceAccount",
        ]
    )


def test_chart_creates_no_secret(manifests):
    assert of_kind(manifests, "Secret") == []
    assert of_kind(manifests, "ConfigMap") == []


def test_probes_use_health_paths(manifests):
    (container,) = web_deployment(manifests)["spec"]["template"]["spec"]["containers"]

    assert container["livenessProbe"]["httpGet"]["path"] == "/sante/vivant/"
    assert container["startupProbe"]["httpGet"]["path"] == "/sante/vivant/"
    assert container["readinessProbe"]["httpGet"]["path"] == "/sante/pret/"


def test_probes_use_container_port(manifests):
    (container,) = web_deployment(manifests)["spec"]["template"]["spec"]["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}

    assert ports == {"http": 8000}
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] == "http"


def test_graceful_shutdown_fits_grace_period(production):
    template = web_deployment(production)["spec"]["template"]
    (container,) = template["spec"]["containers"]
    pause = int(container["lifecycle"]["preStop"]["exec"]["command"][1])
    gunicorn_default = 25  # GUNICORN_GRACEFUL_TIMEOUT_SECONDS in deploy/gunicorn.conf.py

    assert pause + gunicorn_default < template["spec"]["terminationGracePeriodSeconds"]


def test_every_pod_runs_non_root_with_runtime_seccomp(manifests):
    for name, template in pod_specs(manifests):
        security = template["spec"]["securityContext"]

        assert security["runAsNonRoot"] is True, name
        assert security["runAsUser"] > 0, name
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert template["spec"]["automountServiceAccountToken"] is False, name


def test_every_container_is_locked_down(manifests):
    for name, container in containers(manifests):
        security = container["securityContext"]

        assert security["readOnlyRootFilesystem"] is True, name
        assert security["allowPrivilegeEscalation"] is False, name
        assert security["capabilities"]["drop"] == ["ALL"], name


def test_every_pod_writes_tmp_to_empty_dir(manifests):
    for name, template in pod_specs(manifests):
        volumes = {volume["name"]: volume for volume in template["spec"]["volumes"]}
        (container,) = template["spec"]["containers"]
        mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
        tmp = volumes[mounts[TMP]]

        assert "emptyDir" in tmp, name
        assert tmp["emptyDir"]["sizeLimit"], name


def test_every_container_has_requests_and_limits(manifests):
    for name, container in containers(manifests):
        resources = container["resources"]

        assert set(resources["requests"]) == {"cpu", "memory"}, name
        assert set(resources["limits"]) == {"cpu", "memory"}, name


def test_service_accounts_mount_no_token(manifests):
    for account in of_kind(manifests, "ServiceAccount"):
        assert account["automountServiceAccountToken"] is False


def test_secret_variables_come_from_files(manifests):
    for name, container in containers(manifests):
        environment = {item["name"]: item for item in container["env"]}
        mounts = {mount["name"]: mount for mount in container["volumeMounts"]}

        assert SECRET_VARIABLES & set(environment) == set(), name
        assert mounts["secrets"]["readOnly"] is True, name
        for variable in ("DJANGO_SECRET_KEY", "DATABASE_URL", "OIDC_RP_CLIENT_SECRET"):
            path = environment[f"{variable}_FILE"]["value"]
            assert path.startswith(mounts["secrets"]["mountPath"] + "/"), name


def test_secret_volume_reads_existing_secret(production):
    for name, template in pod_specs(production):
        volumes = {volume["name"]: volume for volume in template["spec"]["volumes"]}
        secret = volumes["secrets"]["secret"]
        keys = {item["key"] for item in secret["items"]}

        assert secret["secretName"] == "suivi-social", name
        assert "database-url" in keys, name
        assert "sentry-dsn" in keys, name


def test_env_mode_uses_secret_key_refs():
    manifests = render(merge(MINIMAL_VALUES, {"secrets": {"mode": "env"}}))

    for name, container in containers(manifests):
        environment = {item["name"]: item for item in container["env"]}
        secret = environment["DATABASE_URL"]["valueFrom"]["secretKeyRef"]

        assert "value" not in environment["DATABASE_URL"], name
        assert secret == {"name": "suivi-social", "key": "database-url"}, name
        assert "SENTRY_DSN" not in environment, name


def test_no_plain_value_looks_secret(manifests):
    for name, container in containers(manifests):
        for item in container["env"]:
            value = item.get("value", "")

            assert "://" not in value or "@" not in value, (name, item["name"])
            assert "PRIVATE KEY" not in value, (name, item["name"])


def test_unset_config_leaves_application_default(manifests):
    for name, container in containers(manifests):
        environment = {item["name"] for item in container["env"]}

        assert "DJANGO_DEBUG" not in environment, name
        assert "OIDC_TIMEOUT_SECONDS" not in environment, name


def test_numbers_are_passed_as_plain_strings(production):
    (container,) = web_deployment(production)["spec"]["template"]["spec"]["containers"]
    environment = {item["name"]: item.get("value") for item in container["env"]}

    assert environment["SESSION_COOKIE_AGE_SECONDS"] == "28800"
    assert environment["EMAIL_PORT"] == "587"
    assert environment["EMAIL_USE_TLS"] == "true"
    assert environment["DJANGO_ENV"] == "production"


def test_migration_job_hooks(manifests):
    (job,) = of_kind(manifests, "Job")
    annotations = job["metadata"]["annotations"]

    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation"
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_migration_hook_account_is_created_before_job(manifests):
    (job,) = of_kind(manifests, "Job")
    accounts = {item["metadata"]["name"]: item for item in of_kind(manifests, "ServiceAccount")}
    account = accounts[job["spec"]["template"]["spec"]["serviceAccountName"]]
    job_weight = int(job["metadata"]["annotations"]["helm.sh/hook-weight"])

    assert account["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert int(account["metadata"]["annotations"]["helm.sh/hook-weight"]) < job_weight


def _shell_commands(job: dict[str, Any]) -> list[list[str]]:
    """Split the migration job's shell line into its manage.py commands."""
    (container,) = job["spec"]["template"]["spec"]["containers"]
    shell, flags, line = container["command"]
    assert (shell, flags) == ("/bin/sh", "-ec")
    return [part.split() for part in line.split("&&")]


def test_migration_job_migrates_public_then_structures(production):
    (job,) = of_kind(production, "Job")
    commands = _shell_commands(job)

    assert [command[:3] for command in commands] == [
        ["python", "manage.py", "migrate_schemas"],
        ["python", "manage.py", "createcachetable"],
        ["python", "manage.py", "migrate_schemas"],
        ["python", "manage.py", "build_template_schema"],
    ]
    assert "--shared" in commands[0]
    assert "--tenant" in commands[2]
    # Forked processes: starting a new interpreter per structure made migrating 50 of them
    # about eight times slower (docs/benchmarks.md).
    assert "--executor=multiprocessing" in commands[2]


def test_migration_job_sets_process_count(production):
    (job,) = of_kind(production, "Job")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    environment = {item["name"]: item.get("value") for item in container["env"]}

    assert environment["MIGRATION_PROCESSES"] == "8"


def _parse_command(words: list[str]) -> None:
    """Parse ``manage.py`` arguments as the command would, failing on an unknown one."""
    name, *arguments = words
    parser = load_command_class(get_commands()[name], name).create_parser("manage.py", name)
    parser.parse_args(arguments)


def test_migration_job_commands_exist(manifests):
    (job,) = of_kind(manifests, "Job")

    for command in _shell_commands(job):
        assert command[:2] == ["python", "manage.py"]
        _parse_command(command[2:])


def test_every_cron_job_runs_existing_command(manifests):
    for cron_job in of_kind(manifests, "CronJob"):
        (container,) = cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]

        assert container["command"][:2] == ["python", "manage.py"]
        _parse_command(container["command"][2:])


def test_every_periodic_command_is_scheduled(manifests):
    scheduled = set()
    for cron_job in of_kind(manifests, "CronJob"):
        (container,) = cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
        scheduled.add(container["command"][2])

    assert scheduled == PERIODIC_COMMANDS


def test_cron_jobs_never_overlap(manifests):
    for cron_job in of_kind(manifests, "CronJob"):
        assert cron_job["spec"]["concurrencyPolicy"] == "Forbid"
        assert cron_job["spec"]["timeZone"] == "Europe/Paris"
        assert len(cron_job["metadata"]["name"]) <= 52


def test_ingress_serves_apex_and_wildcard_with_tls(manifests):
    (ingress,) = of_kind(manifests, "Ingress")
    domain = web_deployment(manifests)["spec"]["template"]["spec"]["containers"][0]["env"]
    base_domain = next(item["value"] for item in domain if item["name"] == "BASE_DOMAIN")
    hosts = [rule["host"] for rule in ingress["spec"]["rules"]]
    (tls,) = ingress["spec"]["tls"]

    assert hosts == [base_domain, f"*.{base_domain}"]
    assert tls["hosts"] == hosts
    assert tls["secretName"]


def test_service_and_ingress_reach_web_pods(manifests):
    deployment = web_deployment(manifests)
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    (service,) = of_kind(manifests, "Service")
    (ingress,) = of_kind(manifests, "Ingress")

    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    for rule in ingress["spec"]["rules"]:
        (path,) = rule["http"]["paths"]
        assert path["backend"]["service"]["name"] == service["metadata"]["name"]


def test_autoscaler_owns_replica_count(manifests):
    deployment = web_deployment(manifests)
    (autoscaler,) = of_kind(manifests, "HorizontalPodAutoscaler")

    assert "replicas" not in deployment["spec"]
    assert autoscaler["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert autoscaler["spec"]["minReplicas"] >= 2


def test_fixed_replicas_without_autoscaler():
    manifests = render(merge(MINIMAL_VALUES, {"autoscaling": {"enabled": False}}))

    assert of_kind(manifests, "HorizontalPodAutoscaler") == []
    assert web_deployment(manifests)["spec"]["replicas"] == 2


def test_disruption_budget_selects_web_pods(manifests):
    pod_labels = web_deployment(manifests)["spec"]["template"]["metadata"]["labels"]
    (budget,) = of_kind(manifests, "PodDisruptionBudget")

    assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert budget["spec"]["maxUnavailable"] == 1


def test_network_policy_covers_every_pod(manifests):
    (policy,) = of_kind(manifests, "NetworkPolicy")
    selector = policy["spec"]["podSelector"]["matchLabels"]

    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    for name, template in pod_specs(manifests):
        assert selector.items() <= template["metadata"]["labels"].items(), name


def test_network_policy_admits_only_web_port(manifests):
    (policy,) = of_kind(manifests, "NetworkPolicy")
    ports = [port["port"] for rule in policy["spec"]["ingress"] for port in rule["ports"]]

    assert ports == [8000]


def test_media_claim_mounted_at_media_root():
    manifests = render(MINIMAL_VALUES)
    template = web_deployment(manifests)["spec"]["template"]
    (container,) = template["spec"]["containers"]
    environment = {item["name"]: item.get("value") for item in container["env"]}
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in template["spec"]["volumes"]}

    assert mounts["media"] == environment["MEDIA_ROOT"]
    assert volumes["media"]["persistentVolumeClaim"]["claimName"] == "suivi-social-media"
