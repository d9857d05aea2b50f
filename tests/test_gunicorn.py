"""The production server (gunicorn.conf.py, as `make serve` runs it) answering from recycled workers."""

import gc
import os
import runpy
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.db import connection

from .test_production import ROOT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthz(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return response.status
    except OSError:
        return 0


def production_env(**extra) -> dict:
    settings = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hbwsrc.settings",
        "DEBUG": "False",
        "SECRET_KEY": "gunicorn-test-key-4f9a2c7e1b8d3f6a0e5c9b2d7a4f1e8c3b6d9a2f",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "False",
        "DATABASE_URL": f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}",
        **extra,
    }


def test_the_preloaded_application_is_ready_for_a_first_request_without_a_database_connection(db):
    """What gunicorn's master imports (hbwsrc/wsgi.py) loads the URLconf's view modules, the resolver's index and
    the translation catalogs that each worker would otherwise load on its first request, opens no connection a
    forked worker would share, and leaves WeasyPrint, which only the background worker needs, unimported (its
    import took 0.8 s of a recycled worker's first request)."""
    probe = """
import sys
from hbwsrc.wsgi import application
from django.db import connections
from django.urls import get_resolver
from django.utils.translation import trans_real
print(sorted(m for m in ("reports.views", "trainees.views", "weasyprint") if m in sys.modules))
print(bool(get_resolver()._populated), sorted(trans_real._translations))
print([alias for alias in connections if connections[alias].connection is not None])
"""
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=production_env(), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-3:] == ["['reports.views', 'trainees.views']", "True ['en', 'zh-hans']", "[]"]


def test_workers_leave_the_masters_objects_to_it_and_collect_young_objects_less_often():
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    thresholds = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    try:
        config["when_ready"](server=None)  # in the master, before any worker is forked
        assert gc.get_freeze_count() > 10_000
        config["post_fork"](server=None, worker=None)  # in the worker
        assert gc.get_threshold() == (7_000, *thresholds[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_one_worker_a_core_and_one_more_unless_told(monkeypatch):
    monkeypatch.delenv("GUNICORN_WORKERS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"] == 5
    monkeypatch.setenv("GUNICORN_WORKERS", "9")
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"] == 9


def test_workers_recycled_from_the_preloaded_application_keep_answering(db, tmp_path):
    # Workers are forked from a master that imported the application: none may inherit a database connection.
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["preload_app"] is True
    port = free_port()
    env = production_env(
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        GUNICORN_MAX_REQUESTS="3",  # each worker is replaced after three requests
    )
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while healthz(port) != 200:
                assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
            answers = [healthz(port) for _ in range(12)]
        finally:
            server.terminate()
            server.wait(timeout=30)
    output = log_path.read_text()
    assert answers == [200] * 12, output
    assert output.count("Autorestarting worker") >= 2 and output.count("Booting worker") >= 4, output
