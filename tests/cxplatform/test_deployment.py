"""Settings from the environment, production checks, and the docker-compose file."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY"}}

PRINT_SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], 'name': str(s.DATABASES['default']['NAME']),"
    " 'eager': s.CELERY_TASK_ALWAYS_EAGER, 'broker': s.CELERY_BROKER_URL, 'debug': s.DEBUG}))"
)


def settings_under(env):
    out = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env={**CLEAN_ENV, "DJANGO_SETTINGS_MODULE": "cxplatform.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_embedded_default_is_sqlite_and_in_process_tasks():
    s = settings_under({})
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["eager"] is True


def test_environment_switches_to_postgres_and_real_workers():
    s = settings_under({"DATABASE_URL": "postgres://u:p@db:5432/cx", "REDIS_URL": "redis://cache:6379/1"})
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["name"] == "cx"
    assert s["eager"] is False
    assert s["broker"] == "redis://cache:6379/1"


def test_production_settings_pass_check_deploy():
    env = {
        **CLEAN_ENV,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "cx.example.com",
        "DJANGO_SETTINGS_MODULE": "cxplatform.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env={**CLEAN_ENV, "DEBUG": "0", "DJANGO_SETTINGS_MODULE": "cxplatform.settings"},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_compose_runs_every_role_against_postgres_and_redis():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"migrate", "proxy", "web", "worker", "worker-express", "beat", "postgres", "redis"}
    for role in ("migrate", "web", "worker", "worker-express", "beat"):
        service = services[role]
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"].startswith("redis://redis:6379")
        assert env["DEBUG"] == "0" and "SECRET_KEY" in env
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
    for role in ("web", "worker", "worker-express", "beat"):  # the schema first, once: never N web containers racing
        assert services[role]["depends_on"]["redis"]["condition"] == "service_healthy"
        assert services[role]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == "python manage.py migrate --noinput"
    assert services["migrate"]["restart"] == "no"
    # Web scales (`--scale web=3`): no host port of its own; the proxy publishes one and is trusted.
    assert "gunicorn" in services["web"]["command"] and "migrate" not in services["web"]["command"]
    assert "ports" not in services["web"] and services["proxy"]["ports"] == ["8000:80"]
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert subnet in services["web"]["environment"]["TRUSTED_PROXIES"]
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "proxy_pass $web" in nginx and "resolver 127.0.0.11" in nginx and "X-Forwarded-Proto" in nginx
    assert services["worker"]["command"].startswith("celery -A cxplatform worker")
    assert "-Q" not in services["worker"]["command"]  # every queue, the loop lane first
    # Thank-you e-mails, rollup rebuilds and cases have processes of their own, never waiting
    # for a burst's comment reading; there, on Redis (queues taken in -Q order), mail and
    # rebuilds never wait for the loop lane to empty (docs/adr/0034).
    express = services["worker-express"]["command"].split()
    assert express[:3] == ["celery", "-A", "cxplatform"]
    assert express[express.index("-Q") + 1].split(",") == ["mail", "rollups", "loop"]
    assert services["beat"]["command"].startswith("celery -A cxplatform beat")
    for name in ("web", "worker", "worker-express", "postgres", "redis"):
        assert "healthcheck" in services[name], name
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    pg = services["postgres"]["environment"]
    db_url = services["web"]["environment"]["DATABASE_URL"]
    assert db_url == f"postgres://{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}@postgres:5432/{pg['POSTGRES_DB']}"
    assert {"pgdata", "redisdata"} <= set(compose["volumes"])
    assert (ROOT / "Dockerfile").read_text().count("FROM python:3.11") == 1


def test_celery_is_configured_for_at_least_once_work():
    from cxplatform.celery import app

    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json" and list(conf.accept_content) == ["json"]
    schedule = conf.beat_schedule["redeliver-pending-events"]
    assert schedule["task"] == "cxplatform.tasks.redeliver_pending_events"
    assert schedule["schedule"] == 15.0
