"""Deployment files under infra/deploy cannot rot: their settings and commands must exist."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from service.cli import main
from service.settings import load_settings

DEPLOY = Path(__file__).resolve().parents[2] / "infra" / "deploy"
VARIABLE = re.compile(r"\bNARYAD_[A-Z0-9_]+\b")


class _Recording(Mapping[str, str]):
    """An environment that remembers every variable the settings loader asks for."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return self.values[key]

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return self.values.get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def _variables_the_settings_read() -> set[str]:
    """Every NARYAD_* name load_settings reads, through its production and webhook branches."""
    asked: set[str] = set()
    for values in (
        {},
        {
            "NARYAD_ENV": "production",
            "NARYAD_JWT_SECRET": "k" * 32,
            "NARYAD_STORAGE": "s3",
            "NARYAD_NOTIFY_ADAPTER": "webhook",
            "NARYAD_NOTIFY_WEBHOOK_URL": "https://gateway.invalid/hook",
            "NARYAD_NOTIFY_WEBHOOK_SECRET": "w" * 32,
            "NARYAD_URL_SIGNING_KEY": "u" * 32,
        },
    ):
        env = _Recording(values)
        load_settings(env)
        asked |= env.asked
    return asked


def _documents() -> list[tuple[str, dict[str, Any]]]:
    documents = [("compose.yaml", yaml.safe_load((DEPLOY / "compose.yaml").read_text()))]
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        documents += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return documents


def _k8s(kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in _documents() if doc.get("kind") == kind]


def _containers() -> list[dict[str, Any]]:
    pods = [d["spec"]["template"]["spec"] for d in _k8s("Deployment") + _k8s("Job")]
    return [container for pod in pods for container in pod["containers"]]


def _command_lines() -> list[list[str]]:
    """Every command the files run, shell one-liners split at &&."""
    raw: list[list[str]] = []
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    raw += [s["command"] for s in compose["services"].values() if "command" in s]
    raw += [c["command"] for c in _containers() if "command" in c]
    for line in (DEPLOY / "Dockerfile").read_text().splitlines():
        if line.startswith("CMD "):
            raw.append(yaml.safe_load(line.removeprefix("CMD ")))
    lines: list[list[str]] = []
    for command in raw:
        if command[:2] == ["sh", "-c"]:
            lines += [shlex.split(part) for part in command[2].split("&&")]
        else:
            lines.append(list(command))
    return lines


def test_every_naryad_variable_in_the_deployment_files_is_a_setting() -> None:
    known = _variables_the_settings_read()
    used: set[str] = set()
    for path in [*DEPLOY.rglob("*.yaml"), DEPLOY / "Dockerfile", DEPLOY / "haproxy.cfg"]:
        used |= set(VARIABLE.findall(path.read_text()))
    assert len(used) > 15, "the scan found the files' variables"
    assert used - known == set()


def test_config_maps_and_secrets_hold_only_settings() -> None:
    known = _variables_the_settings_read()
    keys = {key for doc in _k8s("ConfigMap") for key in doc["data"]}
    keys |= {key for doc in _k8s("Secret") for key in doc["stringData"]}
    assert {"NARYAD_DATABASE_URL", "NARYAD_JWT_SECRET", "NARYAD_STORAGE"} <= keys
    assert keys - known == set()


def _resolve(args: list[str]) -> click.Command:
    """Walk the CLI like click would and parse the options, without running anything."""
    command: click.Command = main
    ctx = click.Context(main, info_name="naryad")
    rest = list(args)
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        found = command.get_command(ctx, rest[0])
        assert found is not None, f"naryad has no command {' '.join(args)!r}"
        ctx = click.Context(found, info_name=rest.pop(0), parent=ctx)
        command = found
    assert not isinstance(command, click.Group), f"{args!r} names a group, not a command"
    command.make_context(command.name or "", rest, parent=ctx.parent)
    return command


def test_every_command_the_deployment_runs_exists_in_the_cli() -> None:
    lines = _command_lines()
    naryad = [line[1:] for line in lines if line and line[0] == "naryad"]
    assert ["serve"] in naryad
    assert ["worker"] in naryad
    assert ["db", "upgrade"] in naryad
    for args in naryad:
        _resolve(args)
    with pytest.raises(AssertionError, match="no command"):
        _resolve(["db", "migrate"])


def test_the_image_is_multi_stage_non_root_with_fonts_and_no_compilers() -> None:
    stages = re.split(r"^FROM ", (DEPLOY / "Dockerfile").read_text(), flags=re.M)[1:]
    assert len(stages) >= 2
    final = stages[-1]
    assert "fonts-dejavu-core" in final
    assert not re.search(r"build-essential|\bgcc\b|\bg\+\+|-dev\b", final)
    users = re.findall(r"^USER (\S+)", final, flags=re.M)
    assert users
    assert users[-1].split(":")[0] not in ("root", "0")


def test_kubernetes_probes_budget_and_kustomization() -> None:
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        assert (DEPLOY / "k8s" / resource).is_file(), resource
    deployments = {d["metadata"]["name"]: d for d in _k8s("Deployment")}
    assert set(deployments) == {"naryad-api", "naryad-worker"}
    api = deployments["naryad-api"]["spec"]["template"]
    (container,) = api["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    # The readiness probe waits longer than /ready's own 2 s bound.
    assert container["readinessProbe"]["timeoutSeconds"] > 2
    (budget,) = _k8s("PodDisruptionBudget")
    assert budget["spec"]["selector"]["matchLabels"].items() <= api["metadata"]["labels"].items()
    (job,) = _k8s("Job")
    assert "naryad db upgrade" in " ".join(
        job["spec"]["template"]["spec"]["containers"][0]["command"]
    )
    for container in _containers():
        refs = {
            ref.get("configMapRef", ref.get("secretRef", {}))["name"]
            for ref in container["envFrom"]
        }
        assert refs == {"naryad-config", "naryad-secrets"}


def test_compose_runs_two_apis_two_workers_behind_haproxy() -> None:
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    commands = {name: service.get("command") for name, service in services.items()}
    apis = [name for name, command in commands.items() if command == ["naryad", "serve"]]
    workers = [name for name, command in commands.items() if command == ["naryad", "worker"]]
    assert len(apis) == 2
    assert len(workers) == 2
    assert {"postgres", "minio", "migrate", "haproxy"} <= set(services)
    for name in apis + workers:
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    haproxy = (DEPLOY / "haproxy.cfg").read_text()
    port = services[apis[0]]["environment"]["NARYAD_PORT"]
    assert sorted(re.findall(r"^\s+server \S+ (\S+)$", haproxy, flags=re.M)) == sorted(
        f"{name}:{port}" for name in apis
    )
    assert "httpchk GET /ready" in haproxy
