"""Production serving: the health endpoint and the deployment checks."""

import os
import subprocess
import sys
from pathlib import Path

from django.db import OperationalError
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent


def test_healthz_answers_ok_when_the_database_answers(client, db):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True}


def test_healthz_answers_503_without_a_traceback_when_the_database_is_down(client, db, monkeypatch):
    from hbwsrc import health

    def unreachable():
        raise OperationalError("connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(health.connection, "cursor", unreachable)
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["database"] is False
    assert b"Traceback" not in response.content and b"refused" not in response.content


def test_check_deploy_reports_nothing_with_production_settings():
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DEBUG": "False",
        "SECRET_KEY": "pX3v-9QeKk2r7Jt_Lm4sZwYb8NcFh6UaDg1oRiTe5VyW0nQsMj",
        "ALLOWED_HOSTS": "exam.example.gov.cn",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
