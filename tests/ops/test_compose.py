"""docker-compose.yml, the Dockerfile and deploy/ checked without a Docker engine: structure parsed from the
files, the setup scripts run for real against the test PostgreSQL and the Temporal dev server."""

from __future__ import annotations

import ast
import asyncio
import os
import re
import shutil
import tomllib
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
import pgserver
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from temporalio.testing import WorkflowEnvironment

from db import migrate
from genflow.embedded import SEARCH_ATTRIBUTES, temporal_cli
from genflow.settings import Settings
from webhooks.__main__ import SHUTDOWN_GRACE
from worker import GRACEFUL_SHUTDOWN

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict] = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
ENV_EXAMPLE = ROOT / "deploy" / "env.production.example"
INFRA_EXAMPLE = ROOT / "deploy" / "env.infra.example"

APP = {"migrate": ["python", "-m", "db.migrate"], "worker": ["python", "worker.py"]}
APP |= {"telegram-worker": ["python", "telegram_worker.py"]}
APP |= {"bot": ["python", "-m", "bot"], "webhooks": ["python", "-m", "webhooks"]}
ONE_SHOT = {"temporal-schema", "temporal-setup", "migrate"}
LONG_RUNNING = {"postgres", "temporal", "temporal-ui", "worker", "telegram-worker", "bot", "webhooks"}


def seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)(s|m)", value)
    assert match, value
    return int(match[1]) * (60 if match[2] == "m" else 1)


def env_names(path: Path) -> list[str]:
    return [line.split("=", 1)[0] for line in path.read_text().splitlines() if re.match(r"^[A-Z_]+=", line)]


def test_every_service_is_there():
    assert set(SERVICES) == LONG_RUNNING | ONE_SHOT | {"temporal-cli"}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_images_are_pinned(name: str):
    image = SERVICES[name]["image"]
    repository, _, tag = image.rpartition(":")
    assert repository and tag and tag != "latest", image
    if "build" in SERVICES[name]:
        assert image == "genflow:${GENFLOW_VERSION:-local}"  # ours: tagged per release
    else:
        assert re.fullmatch(r"\d+(\.\d+)+(-[a-z]+)?", tag), f"{image}: pin an exact version"


def test_temporal_follows_the_current_compose_pattern():
    assert not any("auto-setup" in s["image"] for s in SERVICES.values())  # deprecated
    assert SERVICES["temporal-schema"]["image"].startswith("temporalio/admin-tools:")
    assert SERVICES["temporal"]["image"].startswith("temporalio/server:")
    assert SERVICES["temporal-ui"]["image"].startswith("temporalio/ui:")
    versions = {SERVICES[n]["image"].split(":")[1] for n in ("temporal-schema", "temporal", "temporal-setup")}
    assert len(versions) == 1, "server and admin-tools move together"
    schema = (ROOT / "deploy" / "temporal" / "setup-schema.sh").read_text()
    assert "temporal-sql-tool" in schema and "update-schema" in schema
    depends = SERVICES["temporal"]["depends_on"]["temporal-schema"]
    assert depends["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("name", sorted(LONG_RUNNING))
def test_long_running_services_have_healthchecks_and_restart(name: str):
    service = SERVICES[name]
    assert service["restart"] in ("unless-stopped", "always")
    assert service["healthcheck"]["test"]


@pytest.mark.parametrize("name", sorted(ONE_SHOT))
def test_one_shot_services_retry_and_gate_what_follows(name: str):
    assert SERVICES[name]["restart"].startswith("on-failure")
    gated = [s for s in SERVICES.values() if name in (s.get("depends_on") or {})]
    assert gated and all(
        s["depends_on"][name]["condition"] == "service_completed_successfully" for s in gated
    )


def test_no_database_port_is_published_and_nothing_binds_publicly():
    assert "ports" not in SERVICES["postgres"] and "ports" not in SERVICES["temporal"]
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"
    assert "pgdata" in COMPOSE["volumes"]
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]


def test_stop_grace_periods_cover_the_drains():
    for worker in ("worker", "telegram-worker"):
        assert seconds(SERVICES[worker]["stop_grace_period"]) >= GRACEFUL_SHUTDOWN.total_seconds() + 10
    assert seconds(SERVICES["webhooks"]["stop_grace_period"]) >= SHUTDOWN_GRACE + 5
    for name in LONG_RUNNING:
        assert seconds(SERVICES[name].get("stop_grace_period", "10s")) >= 10


def test_app_services_run_the_entry_points_of_one_image():
    for name, command in APP.items():
        service = SERVICES[name]
        assert service["command"] == command
        assert service["build"] == "." and service["env_file"] == ".env.production"
    for script in ("worker.py", "telegram_worker.py"):
        assert (ROOT / script).read_text().count('if __name__ == "__main__":') == 1
    assert (ROOT / "bot" / "__main__.py").exists() and (ROOT / "webhooks" / "__main__.py").exists()
    assert 'if __name__ == "__main__":' in (ROOT / "db" / "migrate.py").read_text()
    # The containers listen on every interface, whatever the env file says.
    assert SERVICES["webhooks"]["environment"]["WEBHOOKS_HOST"] == "0.0.0.0"
    assert SERVICES["bot"]["environment"]["BOT_HOST"] == "0.0.0.0"
    # Healthchecks use the image's own probe (no curl in python:slim).
    for name in ("worker", "telegram-worker", "webhooks"):
        assert "python -m genflow.metrics probe" in " ".join(SERVICES[name]["healthcheck"]["test"])


def test_the_dockerfile_builds_one_slim_non_root_image_without_dev_extras():
    froms = re.findall(r"^FROM (\S+)", DOCKERFILE, re.M)
    assert froms and all(f.startswith("python:3.11-slim") for f in froms)
    users = re.findall(r"^USER (\S+)", DOCKERFILE, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"pip install --no-deps \.", DOCKERFILE) and "[dev]" not in DOCKERFILE
    assert re.search(r"^COPY worker.py telegram_worker.py", DOCKERFILE, re.M)
    assert re.search(r'^CMD \["python", "worker.py"\]', DOCKERFILE, re.M)
    ignored = (ROOT / ".dockerignore").read_text().split()
    for excluded in (".env", ".env.*", ".venv", ".data", "tests", ".git"):
        assert excluded in ignored
    needed_files = ("README.md", "pyproject.toml", "worker.py", "telegram_worker.py", "requirements/prod.txt")
    for needed in (*needed_files, "genflow", "db", "catalog", "locales"):
        assert needed not in ignored
    # Dependencies at the lock's versions, never re-resolved at build time.
    assert re.search(r"^COPY requirements/prod.txt ", DOCKERFILE, re.M)


def test_nothing_in_the_image_imports_what_the_image_leaves_out():
    """.dockerignore leaves the simulators, the test kit and the embedded stack out of the image: no module
    that goes in may import one of them (read from the source)."""
    lines = (ROOT / ".dockerignore").read_text().split()
    ignored = [line for line in lines if not line.startswith(("*", "."))]
    left_out = {name.removesuffix(".py").replace("/", ".") for name in ignored}
    assert {"simulators", "testkit", "genflow.stack", "genflow.embedded", "genflow.proxy"} <= left_out
    shipped = [
        path
        for path in ROOT.rglob("*.py")
        if path.relative_to(ROOT).parts[0] not in {".venv", ".data", "build"}
        and not any(path.relative_to(ROOT).as_posix().startswith(name) for name in ignored)
    ]
    assert ROOT / "worker.py" in shipped and ROOT / "bot" / "__main__.py" in shipped
    offenders = []
    for path in shipped:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            offenders += [
                f"{path.relative_to(ROOT)}: {name}"
                for name in names
                if any(name == out or name.startswith(f"{out}.") for out in left_out)
            ]
    assert offenders == []


def test_the_lock_pins_every_declared_dependency_within_its_range():
    """requirements/*.txt come from `make lock`: a dependency added to pyproject.toml without re-locking,
    or a range the pinned version falls outside, fails here rather than in the image."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def pins(name: str) -> dict[str, Version]:
        lines = (ROOT / "requirements" / name).read_text().splitlines()
        pairs = [line.split("==") for line in lines if "==" in line and not line.startswith("#")]
        return {canonicalize_name(package): Version(version.strip()) for package, version in pairs}

    prod, dev = pins("prod.txt"), pins("dev.txt")
    for declared, lock in ((project["dependencies"], prod), (project["optional-dependencies"]["dev"], dev)):
        for line in declared:
            requirement = Requirement(line)
            name = canonicalize_name(requirement.name)
            assert name in lock, f"{name} is not in the lock: run `make lock`"
            pinned, allowed = lock[name], requirement.specifier
            assert pinned in allowed, f"{name}=={pinned} outside {allowed}"
    # The dev lock installs the very versions the image runs.
    assert {name: dev[name] for name in prod} == prod


def test_the_env_example_lists_every_setting_and_nothing_else():
    listed = env_names(ENV_EXAMPLE)
    fields = [name.upper() for name in Settings.model_fields]
    assert sorted(set(fields) - set(listed)) == [], "settings missing from deploy/env.production.example"
    assert sorted(set(listed) - set(fields)) == [], "unknown variables in deploy/env.production.example"
    assert len(listed) == len(set(listed)), "a variable is listed twice"
    # The example is valid configuration as it stands (the REQUIRED secrets aside, which are empty).
    settings = Settings(_env_file=ENV_EXAMPLE)
    assert settings.log_json and settings.temporal_address == "temporal:7233"
    assert settings.database_url and "@postgres:5432/" in settings.database_url


def test_secrets_stay_in_their_env_files():
    for name in ("postgres", "temporal-schema", "temporal"):
        assert SERVICES[name]["env_file"] == ".env.infra"
    assert env_names(INFRA_EXAMPLE) == ["POSTGRES_PASSWORD", "GENFLOW_DB_PASSWORD", "POSTGRES_PWD"]
    for service in SERVICES.values():
        for key, value in (service.get("environment") or {}).items():
            assert not re.search(r"PASSWORD|PWD|SECRET|TOKEN|KEY", key), f"{key} inline in the compose file"
            assert "@" not in str(value)
    namespace = Settings(_env_file=ENV_EXAMPLE).temporal_namespace
    assert SERVICES["temporal-setup"]["environment"]["TEMPORAL_NAMESPACE"] == namespace
    assert SERVICES["temporal-cli"]["environment"]["TEMPORAL_NAMESPACE"] == namespace
    assert SERVICES["temporal-ui"]["environment"]["TEMPORAL_DEFAULT_NAMESPACE"] == namespace


def test_mounted_files_exist():
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source


async def test_the_namespace_script_sets_up_a_fresh_namespace_twice(temporal_dev: WorkflowEnvironment):
    namespace = f"genflow-setup-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "PATH": f"{Path(temporal_cli()).parent}{os.pathsep}{os.environ['PATH']}",
        "TEMPORAL_ADDRESS": temporal_dev.client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": namespace,
    }
    script = str(ROOT / "deploy" / "temporal" / "setup-namespace.sh")
    for run in range(2):  # idempotent: every `docker compose up` runs it
        process = await asyncio.create_subprocess_exec(
            "sh", script, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        out, _ = await process.communicate()
        assert process.returncode == 0, out.decode()
        assert (b"exists" in out) == (run == 1)
    listed = await asyncio.create_subprocess_exec(
        temporal_cli(), "operator", "search-attribute", "list", "--namespace", namespace, "--output", "json",
        env=env, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await listed.communicate()
    assert set(SEARCH_ATTRIBUTES) <= set(out.decode().replace('"', " ").split())


async def test_the_postgres_init_script_makes_databases_each_role_owns(pg_server_url: str):
    psql = shutil.which("psql") or str(Path(pgserver.__file__).parent / "pginstall" / "bin" / "psql")
    url = urlsplit(pg_server_url)
    socket_dir = parse_qs(url.query)["host"][0]
    suffix = uuid.uuid4().hex[:6]
    script = (ROOT / "deploy" / "postgres" / "init.sh").read_text()
    # The same script with this test's names, so it cannot collide with anything in the shared server.
    for name in ("genflow", "temporal_visibility", "temporal"):
        script = re.sub(rf"\b{name}\b(?!_password)", f"{name}_{suffix}", script)
    env = {
        **os.environ,
        "PATH": f"{Path(psql).parent}{os.pathsep}{os.environ['PATH']}",
        "PGHOST": socket_dir,
        "POSTGRES_USER": url.username or "postgres",
        "GENFLOW_DB_PASSWORD": "genflow-pw",
        "POSTGRES_PWD": "temporal-pw",
    }
    process = await asyncio.create_subprocess_exec(
        "sh", "-c", script, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await process.communicate()
    assert process.returncode == 0, out.decode()
    genflow_url = f"postgresql://genflow_{suffix}@/genflow_{suffix}?host={socket_dir}"
    try:
        assert await migrate(genflow_url)  # the app role migrates its own database
        for database in (f"temporal_{suffix}", f"temporal_visibility_{suffix}"):
            conn = await asyncpg.connect(f"postgresql://temporal_{suffix}@/{database}?host={socket_dir}")
            await conn.execute("CREATE TABLE probe (id int)")  # what temporal-sql-tool will do
            await conn.close()
    finally:
        admin = await asyncpg.connect(pg_server_url)
        for database in (f"genflow_{suffix}", f"temporal_{suffix}", f"temporal_visibility_{suffix}"):
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        for role in (f"genflow_{suffix}", f"temporal_{suffix}"):
            await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        await admin.close()
