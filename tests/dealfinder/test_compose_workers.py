"""Issue 18 item 6: docker compose scales the Celery workers on one machine, and runs workers on other machines
against the one PostgreSQL and the one Redis (README, "Many counties, many workers")."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def load(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text())


def test_the_worker_service_scales():
    worker = load("docker-compose.yml")["services"]["worker"]

    assert worker["deploy"] == {"replicas": "${WORKER_REPLICAS:-1}"}
    assert "container_name" not in worker and "ports" not in worker  # both would stop `--scale worker=N`
    assert worker["command"] == [
        "celery", "-A", "dealfinder", "worker", "-l", "info", "--concurrency", "${WORKER_CONCURRENCY:-2}"
    ]  # fmt: skip


def test_a_worker_on_another_machine_runs_only_the_worker_against_the_shared_database_and_redis():
    compose = load("docker-compose.worker.yml")
    main = load("docker-compose.yml")["services"]["worker"]

    assert list(compose["services"]) == ["worker"]  # no database, broker, web or second beat of its own
    worker = compose["services"]["worker"]
    assert worker["environment"] == {
        "DJANGO_ENV": "production",
        "SECRET_KEY": "${SECRET_KEY:?set SECRET_KEY in .env (the main deployment's)}",
        "ALLOWED_HOSTS": "${ALLOWED_HOSTS:-localhost}",
        "DATABASE_URL": "${DATABASE_URL:?set DATABASE_URL in .env (the shared PostgreSQL)}",
        "CELERY_BROKER_URL": "${CELERY_BROKER_URL:?set CELERY_BROKER_URL in .env (the shared Redis)}",
    }
    assert (worker["command"], worker["deploy"], worker["healthcheck"]) == (
        main["command"],
        main["deploy"],
        main["healthcheck"],
    )
    assert worker["image"] == "dealfinder:latest"
