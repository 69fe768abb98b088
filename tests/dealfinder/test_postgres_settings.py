"""PostgreSQL runs sized for county-scale bulk writes, the same in production (docker-compose.yml's postgis
service) and in the server the tests and the benchmark start (scripts/services.sh)."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {
    "shared_buffers": "1GB",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
    "maintenance_work_mem": "256MB",
}


def test_the_postgis_service_runs_with_the_settings_and_room_for_parallel_queries():
    postgis = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["postgis"]

    command = postgis["command"]
    assert command[0] == "postgres" and command[1::2] == ["-c"] * len(SETTINGS)
    settings = dict(pair.split("=", 1) for pair in command[2::2])
    assert settings == {**SETTINGS, "shared_buffers": "${POSTGRES_SHARED_BUFFERS:-1GB}"}
    assert postgis["shm_size"] == "1gb"


def test_the_project_server_starts_with_the_same_settings():
    script = (ROOT / "scripts" / "services.sh").read_text()

    default = re.search(r"^PG_SHARED_BUFFERS=\$\{DEALFINDER_PG_SHARED_BUFFERS:-(\w+)\}$", script, re.M)[1]
    tuning = re.search(r'^PG_TUNING="(.*)"$', script, re.M)[1].replace("$PG_SHARED_BUFFERS", default)
    assert dict(re.findall(r"-c (\w+)=(\S+)", tuning)) == SETTINGS
    start = re.search(r'pg_ctl" [^\n]* start \\\n\s+-o "([^"]*)"', script)[1]  # the options the server starts with
    assert start.endswith(" $PG_TUNING")
