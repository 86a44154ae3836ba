"""docker-compose.yml is valid against the Compose Specification and describes the scaled layout.
No Docker engine runs here, so the file is checked, not run."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# The Compose Specification's JSON schema, vendored with its licence (Apache-2.0) beside it.
SCHEMA = ROOT / "tests" / "data" / "compose-spec.json"


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_file_is_valid_against_the_compose_schema(compose):
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator(schema).validate(compose)


def test_five_services_each_with_a_healthcheck(compose):
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}
    for name, service in services.items():
        assert service["healthcheck"]["test"], name


def test_redis_persists_its_queue_across_restarts(compose):
    command = compose["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert compose["services"]["redis"]["volumes"] == ["redisdata:/data"]


def test_exactly_one_beat_and_workers_that_never_embed_a_beat(compose):
    services = compose["services"]
    assert services["beat"]["deploy"]["replicas"] == 1
    assert "beat" in " ".join(services["beat"]["command"])
    worker_command = services["worker"]["command"]
    assert "worker" in worker_command
    assert "-B" not in worker_command and "--beat" not in worker_command
    assert services["worker"]["deploy"]["replicas"] >= 2


def test_app_services_reach_postgres_and_redis_by_configuration_alone(compose):
    for name in ("web", "worker", "beat"):
        env = compose["services"][name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://"), name
        assert env["REDIS_URL"] == "redis://redis:6379/0", name
        assert env["DEBUG"] == "false", name
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?"), name  # required, no default


def test_dockerfile_serves_with_gunicorn_and_runs_unprivileged():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11" in dockerfile
    assert "USER shaoxiang" in dockerfile
    assert "gunicorn config.wsgi --preload" in dockerfile


def test_the_schema_check_is_not_vacuous(compose):
    schema = json.loads(SCHEMA.read_text())
    broken = {**compose, "services": {**compose["services"], "web": {**compose["services"]["web"]}}}
    broken["services"]["web"]["helthcheck"] = broken["services"]["web"].pop("healthcheck")
    with pytest.raises(jsonschema.ValidationError, match="helthcheck"):
        jsonschema.Draft7Validator(schema).validate(broken)
