"""Static checks of compose.yaml and the Dockerfile: no Docker engine needed.

compose.yaml is validated against the Compose specification JSON schema that check-jsonschema vendors (a pinned
dev dependency), then checked for the project's own rules: ports published on loopback only, healthchecks on the
long-running services, a Kafka 4.x broker image, and a Dockerfile whose COPY sources exist.
"""

from __future__ import annotations

import copy
import fnmatch
import functools
import importlib.resources
import json
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from jsonschema.validators import validator_for

REPO_ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO_ROOT / "compose.yaml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"

LOOPBACK = "127.0.0.1"
FIELDS_WITH_HOST_IP = 3  # HOST_IP:PUBLISHED:TARGET in the short ports syntax
SERVICES_NEEDING_HEALTHCHECK = ("kafka", "control", "relay", "status-consumer", "worker")


@functools.cache
def compose_schema() -> dict[str, Any]:
    resource = importlib.resources.files("check_jsonschema") / "builtin_schemas" / "vendor" / "compose-spec.json"
    schema: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    return schema


def schema_errors(document: object) -> list[str]:
    """Every way ``document`` violates the Compose specification, as readable messages (empty when valid)."""
    schema = compose_schema()
    # The spec declares "https://json-schema.org/draft-07/schema", which jsonschema does not recognise (it knows
    # the http:// spelling). Without a default it would warn and fall back to the latest draft; say draft 7.
    validator_class = validator_for(schema, default=Draft7Validator)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    errors = sorted(validator.iter_errors(document), key=lambda error: list(error.absolute_path))
    return [f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}" for error in errors]


@functools.cache
def _load_compose_text() -> str:
    return COMPOSE_FILE.read_text(encoding="utf-8")


def load_compose() -> dict[str, Any]:
    document = yaml.safe_load(_load_compose_text())
    assert isinstance(document, dict), "compose.yaml must be a mapping"
    return document


def services() -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = load_compose()["services"]
    return result


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, whichever of the two Compose syntaxes it uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(key): str(value) for key, value in env.items()}


def published_host_ip(port: int | str | dict[str, Any]) -> str | None:
    """The host address a ``ports:`` entry binds to; None means every interface."""
    if isinstance(port, dict):
        host_ip = port.get("host_ip")
        return str(host_ip) if host_ip is not None else None
    spec = str(port).split("/", 1)[0]  # drop "/tcp" or "/udp"
    if spec.startswith("["):  # [::1]:8000:8000
        return spec[1 : spec.index("]")]
    fields = spec.split(":")
    return fields[0] if len(fields) == FIELDS_WITH_HOST_IP else None


# --- (a) schema validation ---------------------------------------------------------------------------------------


def test_compose_file_is_valid_against_compose_spec() -> None:
    errors = schema_errors(load_compose())
    assert not errors, "compose.yaml violates the Compose specification:\n" + "\n".join(errors)


def test_compose_file_has_no_obsolete_version_key() -> None:
    assert "version" not in load_compose()


def test_validator_accepts_a_minimal_valid_document() -> None:
    """Control for the negative tests below: they must fail for their defect, not because everything fails."""
    assert schema_errors({"services": {"app": {"image": "busybox", "ports": ["127.0.0.1:80:80"]}}}) == []


@pytest.mark.parametrize(
    ("mutation", "expected_in_message"),
    [
        pytest.param(lambda doc: doc["services"]["kafka"].update(ports="not-a-list"), "not-a-list", id="ports-str"),
        pytest.param(lambda doc: doc.update(servicez={}), "servicez", id="unknown-top-level-key"),
        pytest.param(lambda doc: doc["services"]["worker"].update(helthcheck={}), "helthcheck", id="misspelt-key"),
        pytest.param(
            lambda doc: doc["services"]["control"]["depends_on"]["kafka"].update(condition="service_ready"),
            "service_ready",
            id="bad-depends-on-condition",
        ),
    ],
)
def test_validator_rejects_broken_documents(
    mutation: Callable[[dict[str, Any]], object], expected_in_message: str
) -> None:
    document = copy.deepcopy(load_compose())
    mutation(document)
    errors = schema_errors(document)
    assert errors, "the schema accepted a broken document; the validity check above would pass vacuously"
    assert any(expected_in_message in error for error in errors), errors


# --- (b) ports ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("port", "expected"),
    [
        ("127.0.0.1:9092:9092", "127.0.0.1"),
        ("127.0.0.1:8000:8000/tcp", "127.0.0.1"),
        ("8000:8000", None),
        ("8000", None),
        (8000, None),
        ("[::1]:8000:8000", "::1"),
        ({"target": 8000, "published": 8000, "host_ip": "127.0.0.1"}, "127.0.0.1"),
        ({"target": 8000, "published": 8000}, None),
    ],
)
def test_published_host_ip_parses_port_syntaxes(port: int | str | dict[str, Any], expected: str | None) -> None:
    assert published_host_ip(port) == expected


def test_every_published_port_binds_loopback() -> None:
    published = [(name, port) for name, service in services().items() for port in service.get("ports", [])]
    assert published, "expected at least one published port"
    exposed = [f"{name}: {port!r}" for name, port in published if published_host_ip(port) != LOOPBACK]
    assert not exposed, f"ports published beyond {LOOPBACK}:\n" + "\n".join(exposed)


def test_no_service_uses_host_networking() -> None:
    """network_mode: host would bypass the loopback-only port mappings altogether."""
    assert not [name for name, service in services().items() if service.get("network_mode") == "host"]


# --- (c) healthchecks --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SERVICES_NEEDING_HEALTHCHECK)
def test_service_has_healthcheck(name: str) -> None:
    healthcheck = services()[name].get("healthcheck")
    assert isinstance(healthcheck, dict), f"{name} has no healthcheck"
    assert not healthcheck.get("disable"), f"{name} disables its healthcheck"
    test = healthcheck.get("test")
    assert test, f"{name} healthcheck has no test"
    assert test != ["NONE"], f"{name} healthcheck test is NONE"


def test_dependents_wait_for_healthy_kafka() -> None:
    for name in ("control", "worker"):
        depends_on = services()[name].get("depends_on")
        assert isinstance(depends_on, dict), f"{name} must use the long depends_on syntax"
        assert depends_on["kafka"]["condition"] == "service_healthy", name


# --- (d) images --------------------------------------------------------------------------------------------------


def test_kafka_is_official_image_version_4() -> None:
    image = services()["kafka"]["image"]
    assert re.fullmatch(r"apache/kafka:4(\.\d+){0,2}", image), f"expected apache/kafka:4.x, got {image!r}"


def test_secret_key_is_required_without_default() -> None:
    value = environment(services()["control"])["SWITCHYARD_SECRET_KEY"]
    # ${VAR:?message} makes `docker compose` fail when unset; ${VAR:-default} or a literal would bake in a secret.
    assert re.fullmatch(r"\$\{SWITCHYARD_SECRET_KEY:\?[^}]*\}", value), value


# --- (e) Dockerfile ----------------------------------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and backslash continuations joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def copy_sources(text: str) -> list[str]:
    """Build-context paths the Dockerfile's COPY/ADD instructions read (not those copied from other stages)."""
    sources: list[str] = []
    for keyword, arguments in dockerfile_instructions(text):
        if keyword not in ("COPY", "ADD"):
            continue
        words = json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)
        flags = [word for word in words if word.startswith("--")]
        if any(flag.startswith("--from=") for flag in flags):
            continue
        paths = [word for word in words if not word.startswith("--")]
        *sources_here, _destination = paths
        assert sources_here, f"{keyword} {arguments}: needs a source and a destination"
        sources.extend(sources_here)
    return sources


def test_copy_sources_parser() -> None:
    text = (
        "FROM python:3.11-slim AS base\n"
        "# COPY commented-out.txt /\n"
        "COPY --chown=app:app a.txt \\\n"
        "     b/ /app/\n"
        'COPY ["c.txt", "/app/"]\n'
        "COPY --from=base /usr/lib /usr/lib\n"
    )
    assert copy_sources(text) == ["a.txt", "b/", "c.txt"]


def _context_path_exists(source: str) -> bool:
    relative = source.removeprefix("./").rstrip("/")
    if not relative:
        return True  # the whole build context
    if any(char in relative for char in "*?["):
        return any(REPO_ROOT.glob(relative))
    return (REPO_ROOT / relative).exists()


def test_dockerfile_exists() -> None:
    assert DOCKERFILE.is_file()


def test_dockerfile_copies_existing_files() -> None:
    sources = copy_sources(DOCKERFILE.read_text(encoding="utf-8"))
    assert sources, "the Dockerfile copies nothing from the build context"
    missing = [source for source in sources if not _context_path_exists(source)]
    assert not missing, f"Dockerfile COPYs paths missing from the repository: {missing}"


def test_dockerignore_does_not_exclude_copied_files() -> None:
    patterns = [
        line.strip().rstrip("/")
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith(("#", "!"))
    ]
    sources = [source.rstrip("/") for source in copy_sources(DOCKERFILE.read_text(encoding="utf-8"))]
    excluded = [(source, pattern) for source in sources for pattern in patterns if fnmatch.fnmatch(source, pattern)]
    assert not excluded, f".dockerignore removes files the Dockerfile COPYs: {excluded}"


def test_compose_builds_from_repository_dockerfile() -> None:
    for name in ("control", "worker"):
        build = services()[name].get("build")
        assert build is not None, f"{name} is not built from the repository"
        context = build if isinstance(build, str) else build.get("context", ".")
        dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        assert (COMPOSE_FILE.parent / context / dockerfile).resolve() == DOCKERFILE, name
