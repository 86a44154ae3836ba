"""The deployment files: docker-compose.yml is valid against the Compose Specification and
describes the scaled layout; every setting reaches web, worker and beat, none of them is a secret
written into the compose file, and neither .env nor an instance's keys can enter the image; the
image and `make` install the hash-checked lock files. No Docker engine runs here, so the files
are checked, not run."""

import ast
import json
import re
import shlex
import tomllib
from pathlib import Path, PurePosixPath

import jsonschema
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
# The Compose Specification's JSON schema, vendored with its licence (Apache-2.0) beside it.
SCHEMA = ROOT / "tests" / "data" / "compose-spec.json"
SETTINGS = ROOT / "config" / "settings.py"
LOCK = ROOT / "requirements" / "lock.txt"
LOCK_DEV = ROOT / "requirements" / "lock-dev.txt"
APP_SERVICES = ("web", "worker", "beat")

# Settings that, missing in a container, leave it weaker than its operator set it: its keys, the
# hosts and origins it answers, what it believes of the proxy in front (HTTPS, the client's
# address), who may scrape /metrics, where the worker may send a POST, what the public may read
# and how fast anybody may call. README's "Running at scale" names each for production.
SECURITY_VARIABLES = {
    "SECRET_KEY",
    "FIELD_ENCRYPTION_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_COOKIES",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "NUM_PROXIES",
    "METRICS_TOKEN",
    "WEBHOOK_ALLOWED_HOSTS",
    "NOTIFY_WEBHOOK_URL",
    "OPEN311_PUBLIC_READ",
    "API_THROTTLE_RATE",
}
# What the layout itself decides for web, worker and beat, over whatever .env says.
LAYOUT_VARIABLES = {"DATABASE_URL", "REDIS_URL", "DEBUG"}
# A variable by this name holds a secret: it is read from .env, never written in the compose file.
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|(^|_)KEYS?$")
# "${NAME}", "${NAME?message}" or "${NAME:?message}": the value comes from .env or the shell,
# with no default written here.
REQUIRED_REFERENCE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(:?\?[^}]*)?\}")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def settings_variables() -> set[str]:
    """Every environment variable config/settings.py reads: the first argument of each call of a
    config.env reader (env_str, env_bool, env_int, env_list, env_database, env_redis_url …)."""
    tree = ast.parse(SETTINGS.read_text(), filename=str(SETTINGS))
    readers = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "config.env"
        for alias in node.names
        if alias.name.startswith("env_")
    }
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv"}:
            pytest.fail(f"settings.py:{node.lineno} reads os.{node.attr}: use config.env's readers")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in readers
        ):
            name = node.args[0] if node.args else None
            assert isinstance(name, ast.Constant) and isinstance(name.value, str), (
                f"settings.py:{node.lineno}: {node.func.id}() needs the variable's name as a"
                " literal, or this test cannot tell whether it reaches the containers"
            )
            names.add(name.value)
    return names


def environment(service: dict) -> dict[str, str | None]:
    """A service's `environment:`, in either form (a mapping, or a list of NAME=value)."""
    raw = service.get("environment") or {}
    if isinstance(raw, dict):
        return {name: None if value is None else str(value) for name, value in raw.items()}
    pairs = (item.split("=", 1) if "=" in item else (item, None) for item in raw)
    return dict(pairs)


def env_files(service: dict) -> list[dict]:
    """A service's `env_file:`, in each form the specification allows, as {path, required}."""
    raw = service.get("env_file") or []
    entries = [raw] if isinstance(raw, str) else raw
    return [{"required": True, "path": e} if isinstance(e, str) else e for e in entries]


def reads_dot_env(service: dict) -> bool:
    """Whether the service gets every variable of the .env file beside the compose file, which
    must exist (a missing optional file would start the containers on defaults)."""
    return any(
        PurePosixPath(entry["path"]) == PurePosixPath(".env")
        and entry.get("required", True) in (True, "true")
        for entry in env_files(service)
    )


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
    for name in APP_SERVICES:
        env = environment(compose["services"][name])
        assert env["DATABASE_URL"].startswith("postgres://shaoxiang:"), name
        assert env["DATABASE_URL"].endswith("@postgres:5432/shaoxiang"), name
        assert env["REDIS_URL"] == "redis://redis:6379/0", name
        assert env["DEBUG"] == "false", name


def test_settings_still_read_every_security_variable():
    # A variable renamed in settings must be renamed here and in README too.
    assert SECURITY_VARIABLES - settings_variables() == set()


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_setting_reaches_the_service(compose, name):
    """Given the variables settings.py reads, when the service starts, then each one the
    operator set reaches it: through the whole .env, or listed in `environment:`."""
    service = compose["services"][name]
    listed = set(environment(service))
    missing = {
        variable
        for variable in settings_variables() | SECURITY_VARIABLES
        if not (reads_dot_env(service) or variable in listed)
    }
    assert missing == set(), f"{name} never gets these: read the whole .env (env_file, required)"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_no_security_setting_of_the_operator_is_overridden(compose, name):
    """`environment:` wins over env_file: a security variable fixed there would silently replace
    the operator's value in .env."""
    env = environment(compose["services"][name])
    overridden = {
        variable: value
        for variable, value in env.items()
        if variable in SECURITY_VARIABLES
        and not (value is None or _is_reference_to(value, variable))
    }
    assert overridden == {}
    # Any other setting belongs in .env too, where the operator sees every value in one place.
    assert set(env) - SECURITY_VARIABLES - LAYOUT_VARIABLES == set()


def _is_reference_to(value: str, variable: str) -> bool:
    match = re.fullmatch(r"\$\{(\w+)(:?[-?][^}]*)?\}", value)
    return bool(match) and match.group(1) == variable


def literal_secrets(compose: dict) -> list[str]:
    """Every secret the compose file writes itself: a secret-named variable with a value or a
    default of its own, or a URL with a password written in it (or given a default)."""
    found = []
    for name, service in compose["services"].items():
        for variable, value in environment(service).items():
            if value is None:
                continue
            if SECRET_NAME.search(variable) and not REQUIRED_REFERENCE.fullmatch(value):
                found.append(f"{name}: {variable}")
            userinfo = re.match(r"[a-z][a-z0-9+.-]*://([^@/]*)@", value)
            if userinfo and ":" in userinfo.group(1):
                password = userinfo.group(1).split(":", 1)[1]
                if not REQUIRED_REFERENCE.fullmatch(password):
                    found.append(f"{name}: {variable}'s password")
    return found


def test_no_secret_is_written_in_the_compose_file(compose):
    assert literal_secrets(compose) == []


def test_the_literal_secret_check_is_not_vacuous(compose):
    # Given a copy of the file with secrets written in three ways, when checked, then each is named.
    services = compose["services"]
    broken = {
        **compose,
        "services": {
            **services,
            "web": {**services["web"], "environment": {"SECRET_KEY": "x" * 50}},
            "worker": {
                **services["worker"],
                "environment": ["METRICS_TOKEN=${METRICS_TOKEN:-letmein}"],
            },
            "beat": {
                **services["beat"],
                "environment": {"DATABASE_URL": "postgres://shaoxiang:hunter2@postgres/shaoxiang"},
            },
        },
    }
    assert sorted(literal_secrets(broken)) == [
        "beat: DATABASE_URL's password",
        "web: SECRET_KEY",
        "worker: METRICS_TOKEN",
    ]


# --- what enters the image ------------------------------------------------------------------------


def _docker_pattern(pattern: str) -> re.Pattern:
    """A .dockerignore pattern as Docker (moby/patternmatcher) reads it: `*` and `?` within one
    path segment, `**` any number of segments (none too), `[…]` a class, `\\` an escape."""
    out, i = "", 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*" and pattern[i + 1 : i + 2] == "*":
            i += 1
            if pattern[i + 1 : i + 2] == "/":
                i += 1
            out += ".*" if i + 1 == len(pattern) else "(.*/)?"
        elif char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "[":
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end]
            out += "[" + ("^" + body[1:] if body.startswith("^") else body) + "]"
            i = end
        elif char == "\\":
            i += 1
            out += re.escape(pattern[i])
        else:
            out += re.escape(char)
        i += 1
    return re.compile(out)


def dockerignore_rules(text: str) -> list[tuple[bool, re.Pattern]]:
    """(is an exception "!…", pattern) per line, as Docker reads the file: comments and blank
    lines skipped, each pattern trimmed and cleaned, a leading "/" dropped."""
    rules = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        pattern = str(PurePosixPath(line.removeprefix("!").strip()))
        rules.append((exception, _docker_pattern(pattern.removeprefix("/") or ".")))
    return rules


def dockerignore_excludes(path: str, rules: list[tuple[bool, re.Pattern]]) -> bool:
    """Whether Docker leaves the path out of the build context: the last rule that matches the
    path, or one of the folders it lies in, decides."""
    parts = PurePosixPath(path).parts
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for exception, pattern in rules:
        if any(pattern.fullmatch(candidate) for candidate in candidates):
            excluded = not exception
    return excluded


@pytest.fixture(scope="module")
def dockerignore():
    return dockerignore_rules((ROOT / ".dockerignore").read_text())


def test_the_dockerignore_reader_follows_dockers_examples():
    # The examples of Docker's documentation of .dockerignore.
    rules = dockerignore_rules("# comment\n*/temp*\n*/*/temp*\ntemp?\n**/*.go\n*.md\n!README.md\n")
    for path in ("a/temporary.txt", "a/temp", "a/temp/x", "a/b/temp.txt", "tempa", "x.go"):
        assert dockerignore_excludes(path, rules), path
    assert dockerignore_excludes("a/b/c.go", rules)
    assert dockerignore_excludes("CHANGES.md", rules)
    for path in ("temp.txt", "a/b/c/temp", "tempab", "README.md", "comment"):
        assert not dockerignore_excludes(path, rules), path


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".env.production",
        ".env.local",
        "deploy/.env",
        "var/secret_key",
        "var/instance.env",
        "var/demo_api_keys.json",
        "var/shaoxiang.sqlite3",
        "var/media/evidence/photo.jpg",
        # A second instance's folder (README: VAR_DIR=var2).
        "var2/secret_key",
        "var2/instance.env",
        "var2/demo_api_keys.json",
        "var2/shaoxiang.sqlite3",
        "var2/shaoxiang.sqlite3-wal",
        "shaoxiang.sqlite3",
        "tls/server.key",
        "tls/server.pem",
        ".git/config",
        ".venv/bin/python",
    ],
)
def test_secrets_and_instance_files_stay_out_of_the_build_context(dockerignore, path):
    assert dockerignore_excludes(path, dockerignore)


@pytest.mark.parametrize(
    "path",
    [
        "manage.py",
        "gunicorn.conf.py",
        "pyproject.toml",
        "README.md",
        "requirements/lock.txt",
        "config/settings.py",
        "config/env.py",
        "enforcement/api_keys.py",
        "enforcement/migrations/0009_api_keys_webhooks.py",
        "locale/zh_Hans/LC_MESSAGES/django.po",
        "static/core/app.css",
        "templates/base.html",
    ],
)
def test_the_source_the_image_needs_stays_in_the_build_context(dockerignore, path):
    assert not dockerignore_excludes(path, dockerignore)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments left out."""
    instructions, current = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.strip().startswith("#"):
            continue
        current += line.rstrip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        if current.strip():
            keyword, _, arguments = current.strip().partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
        current = ""
    return instructions


def test_the_image_gets_files_only_through_the_dockerignore(compose, dockerignore):
    """Given the Dockerfile's COPY and ADD, then each takes files from the build context (no
    other stage, context or URL) and none names a file the .dockerignore leaves out; nothing
    replaces the .dockerignore (BuildKit reads Dockerfile.dockerignore instead when present); and
    compose builds that Dockerfile in that context."""
    for name in APP_SERVICES:
        assert compose["services"][name]["build"] == ".", name
    assert not (ROOT / "Dockerfile.dockerignore").exists()
    copies = [a for k, a in dockerfile_instructions() if k in {"COPY", "ADD"}]
    assert copies
    for arguments in copies:
        # The exec form is a JSON array, the shell form words as a shell splits them.
        words = json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)
        flags = [w for w in words if w.startswith("--")]
        *sources, _destination = [w for w in words if not w.startswith("--")]
        assert not [f for f in flags if f.startswith("--from")], arguments
        for source in sources:
            assert "://" not in source and not source.startswith(("/", "git@")), arguments
            assert ".." not in PurePosixPath(source).parts, arguments
            assert not dockerignore_excludes(source, dockerignore), arguments
            assert dockerignore_excludes(str(PurePosixPath(source) / ".env"), dockerignore)


def test_the_image_declares_no_secret():
    # ARG and ENV values stay in the image's history and configuration for anyone who pulls it.
    for keyword, arguments in dockerfile_instructions():
        if keyword in {"ARG", "ENV"}:
            names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", arguments) or arguments.split()[:1]
            assert not [n for n in names if SECRET_NAME.search(n)], arguments


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


# --- the lock files -----------------------------------------------------------------------------


def lock_pins(path: Path) -> dict[str, tuple[str, list[str]]]:
    """{name: (version, hashes)} of a lock file written by `make lock`."""
    pins: dict[str, tuple[str, list[str]]] = {}
    name = None
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            requirement, _, version = line.rstrip(" \\").partition("==")
            assert version, f"{path.name}: {line!r} is not pinned with =="
            name = canonicalize_name(requirement)
            pins[name] = (version, [])
        elif "--hash=" in line:
            pins[name][1].append(line.strip().rstrip(" \\").removeprefix("--hash="))
    return pins


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


@pytest.mark.parametrize(
    ("lock", "groups"), [(LOCK, ["runtime"]), (LOCK_DEV, ["runtime", "dev"])], ids=["run", "dev"]
)
def test_the_lock_pins_with_hashes_what_pyproject_asks(lock, groups):
    """Given pyproject.toml's dependencies (and its build backend, which `make` and the
    Dockerfile use without build isolation), then the lock pins a version each allows, with
    hashes: `make lock` was run after the last change of a dependency."""
    project = pyproject()
    wanted = list(project["build-system"]["requires"])
    if "runtime" in groups:
        wanted += project["project"]["dependencies"]
    if "dev" in groups:
        wanted += project["project"]["optional-dependencies"]["dev"]
    pins = lock_pins(lock)
    unhashed = [
        n
        for n, (_, hashes) in pins.items()
        if not hashes or not all(h.startswith("sha256:") for h in hashes)
    ]
    assert unhashed == []
    unmet = []
    for line in wanted:
        requirement = Requirement(line)
        if requirement.marker and not requirement.marker.evaluate():
            continue
        version, _ = pins.get(canonicalize_name(requirement.name), (None, []))
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            unmet.append(f"{line} (locked: {version})")
    assert unmet == [], "run `make lock`"


def test_the_dev_lock_keeps_the_runtime_versions():
    # `make run` after `make test` in one .venv changes nothing.
    runtime, dev = lock_pins(LOCK), lock_pins(LOCK_DEV)
    assert {name: dev.get(name) for name in runtime} == runtime


def test_make_and_the_image_install_from_the_locks_with_hashes():
    makefile = (ROOT / "Makefile").read_text()
    assert "LOCK := requirements/lock.txt" in makefile
    assert "LOCK_DEV := requirements/lock-dev.txt" in makefile
    assert re.search(r"^\$\(VENV\)/\.installed-run: \$\(LOCK\)", makefile, re.M)
    assert re.search(r"^\$\(VENV\)/\.installed-dev: \$\(LOCK_DEV\)", makefile, re.M)
    assert "pip install --quiet --require-hashes -r $(1)" in makefile
    assert "pip install --quiet --no-deps --no-build-isolation -e ." in makefile
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir --require-hashes -r requirements/lock.txt" in dockerfile
    assert "pip install --no-cache-dir --no-deps --no-build-isolation ." in dockerfile
