"""The production recipe in deploy/ (docs/operator.md, "Running as services") holds together:
the workspace loads the code location pyproject.toml names, the services' environment file and
units name only variables the code reads and every setting it reads, the units parse and start
the webserver and the daemon on deploy/workspace.yaml, and the health check says in one line
what is down."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
WORKSPACE = DEPLOY / "workspace.yaml"
ENV_FILE = DEPLOY / "probation.env.example"
UNITS = {
    "webserver": DEPLOY / "systemd" / "probation-dagster-webserver.service",
    "daemon": DEPLOY / "systemd" / "probation-dagster-daemon.service",
}
HEALTHCHECK = DEPLOY / "healthcheck.sh"

# a variable name (never a family such as DAGSTER_PG_*)
NAME = re.compile(r"\b(?:PROBATION|DAGSTER)_[A-Z0-9_]*[A-Z0-9](?![\w*])")
# What the code reads: the Python of the pipeline, the dbt project and the instance settings.
CODE = [
    *sorted((ROOT / "orchestration").rglob("*.py")),
    *sorted((ROOT / "schemas").rglob("*.py")),
    *sorted((ROOT / "dbt_project").rglob("*.yml")),
    *sorted((ROOT / "dbt_project").rglob("*.sql")),
    ROOT / "dagster.yaml",
    DEPLOY / "dagster-postgres.yaml",
]
# Set by the pipeline for dbt while it builds (orchestration/warehouse/incremental.py), never by
# an operator.
SET_BY_THE_PIPELINE = {"PROBATION_WAREHOUSE", "PROBATION_PREVIOUS_WAREHOUSE"}
# Read by the programs the units start rather than by the project's code.
READ_BY_DBT = {"DBT_SEND_ANONYMOUS_USAGE_STATS"}
ASSIGNMENT = re.compile(r"^(#?)([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def _code_reads() -> set[str]:
    found: set[str] = set()
    for path in CODE:
        if "target" in path.relative_to(ROOT).parts:  # dbt's compiled artefacts
            continue
        found |= set(NAME.findall(path.read_text(encoding="utf-8")))
    return found


def _env_assignments() -> tuple[dict[str, str], dict[str, str]]:
    """The environment file's variables: (set, commented out with their default)."""
    active: dict[str, str] = {}
    optional: dict[str, str] = {}
    for line in ENV_FILE.read_text(encoding="utf-8").splitlines():
        match = ASSIGNMENT.match(line.strip())
        if match:
            (optional if match.group(1) else active)[match.group(2)] = match.group(3)
    return active, optional


def _unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit as sections of keys, each with every value given (keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        assert not line.endswith("\\"), f"{path.name}:{number}: keep each setting on one line"
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, sep, value = line.partition("=")
        assert current is not None and sep, f"{path.name}:{number}: not a setting: {line}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_the_workspace_loads_the_code_location_pyproject_names():
    dagster = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["dagster"]
    (location,) = yaml.safe_load(WORKSPACE.read_text())["load_from"]
    module = location["python_module"]
    assert module["module_name"] == dagster["module_name"]
    assert module["location_name"] == dagster["code_location_name"]
    # relative to the directory the services start in (the repository root), not to the file
    assert module["working_directory"] == "."
    assert (ROOT / (dagster["module_name"].replace(".", "/") + ".py")).is_file()


def test_the_environment_file_and_units_name_only_variables_the_code_reads():
    reads = _code_reads()
    mentioned = set(NAME.findall(ENV_FILE.read_text(encoding="utf-8")))
    active, optional = _env_assignments()
    mentioned |= set(active) | set(optional)
    for path in UNITS.values():
        text = path.read_text(encoding="utf-8")
        mentioned |= set(NAME.findall(text))
        for value in _unit(path)["Service"].get("Environment", []):
            mentioned.add(value.partition("=")[0])
    unknown = sorted(mentioned - reads - READ_BY_DBT)
    assert not unknown, f"named in deploy/ but read by no code: {unknown}"


def test_the_environment_file_lists_every_setting_the_code_reads():
    active, optional = _env_assignments()
    assert not set(active) & set(optional), "a variable both set and commented out"
    listed = set(active) | set(optional)
    settings = (ROOT / "orchestration" / "settings.py").read_text(encoding="utf-8")
    read_by_settings = set(re.findall(r"os\.environ\.get\(\"(PROBATION_[A-Z_]+)\"", settings))
    assert read_by_settings >= {"PROBATION_DATA_DIR", "PROBATION_LANDING_DIR"}
    assert read_by_settings <= listed, sorted(read_by_settings - listed)
    every_setting = {n for n in _code_reads() if n.startswith("PROBATION_")} - SET_BY_THE_PIPELINE
    assert every_setting <= listed, f"not in {ENV_FILE.name}: {sorted(every_setting - listed)}"
    assert not SET_BY_THE_PIPELINE & listed
    incremental = (ROOT / "orchestration" / "warehouse" / "incremental.py").read_text()
    assert all(name in incremental for name in SET_BY_THE_PIPELINE)
    # What both services need to start: the instance, its PostgreSQL storage and the folders.
    instance = yaml.safe_load((DEPLOY / "dagster-postgres.yaml").read_text())
    database = instance["storage"]["postgres"]["postgres_db"]
    postgres = {v["env"] for v in database.values() if isinstance(v, dict) and "env" in v}
    assert postgres == {f"DAGSTER_PG_{p}" for p in ("HOST", "PORT", "USER", "PASSWORD", "DB")}
    required = {"DAGSTER_HOME", "PROBATION_DATA_DIR", "PROBATION_LANDING_DIR", *postgres}
    assert required <= set(active), sorted(required - set(active))
    assert "PROBATION_FAILURE_WEBHOOK" in listed
    for name, value in active.items():  # systemd does not expand ${...} in an EnvironmentFile
        assert "$" not in value, f"{name}={value}: write the value in full"


@pytest.mark.parametrize("part", sorted(UNITS))
def test_the_units_start_the_services_on_the_workspace(part):
    unit = _unit(UNITS[part])
    service = unit["Service"]
    assert set(unit) == {"Unit", "Service", "Install"}
    (workdir,) = service["WorkingDirectory"]
    (start,) = service["ExecStart"]
    program, *arguments = start.split()
    command = {"webserver": "dagster-webserver", "daemon": "dagster-daemon"}[part]
    assert program == f"{workdir}/.venv/bin/{command}"
    assert " ".join(arguments).count("-w deploy/workspace.yaml") == 1
    if part == "daemon":
        assert arguments[0] == "run"
    else:
        assert "-h 127.0.0.1 -p 3000" in start
    assert service["EnvironmentFile"] == ["/etc/probation-pipeline/probation.env"]
    assert service["Restart"] == ["on-failure"]
    assert service["User"] != ["root"] and service["User"] == service["Group"]
    # hardened, with the state folder (DAGSTER_HOME and the data folder) writable
    assert service["ProtectSystem"] == ["strict"] and service["NoNewPrivileges"] == ["yes"]
    (state,) = service["StateDirectory"]
    active, _ = _env_assignments()
    for name in ("DAGSTER_HOME", "PROBATION_DATA_DIR"):
        assert active[name].startswith(f"/var/lib/{state}/"), name


def test_the_units_have_one_environment_file():
    files = {tuple(_unit(path)["Service"]["EnvironmentFile"]) for path in UNITS.values()}
    assert len(files) == 1


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_systemd_accepts_the_units(tmp_path):
    """systemd-analyze verify, with the checkout placeholder pointing at a folder whose
    .venv/bin holds this environment's dagster programs (verify wants them executable)."""
    checkout = tmp_path / "checkout"
    (checkout / ".venv" / "bin").mkdir(parents=True)
    for program in ("dagster-webserver", "dagster-daemon"):
        found = Path(sys.executable).with_name(program)
        if not found.exists():
            pytest.skip(f"{program} is not installed beside {sys.executable}")
        (checkout / ".venv" / "bin" / program).symlink_to(found)
    copies = []
    for path in UNITS.values():
        workdir = _unit(path)["Service"]["WorkingDirectory"][0]
        copy = tmp_path / path.name
        copy.write_text(path.read_text().replace(workdir, str(checkout)))
        copies.append(str(copy))
    result = subprocess.run(
        ["systemd-analyze", "verify", *copies], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert not result.stderr.strip(), result.stderr


def test_the_health_check_names_what_is_down_in_one_line(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env_file = tmp_path / "probation.env"
    env_file.write_text("# nothing set\n")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
    url = f"http://127.0.0.1:{port}"
    result = subprocess.run(
        ["bash", str(HEALTHCHECK), "--env-file", str(env_file), "--url", url],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 1
    (line,) = result.stdout.splitlines()
    assert line.startswith("unhealthy: webserver: ")
    assert "daemon: cannot check, DAGSTER_HOME is not set" in line
    assert os.access(HEALTHCHECK, os.X_OK)
