"""Response headers and error pages: the Content-Security-Policy (and templates it can hold to), no-store on
pages for logged-in accounts, framing and referrer rules, production cookie and HSTS settings, and error pages
that show an incident id and never a traceback."""

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import path, reverse

from hbwsrc.logging import RedactFilter
from hbwsrc.urls import urlpatterns as project_urlpatterns

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
# Rendered by WeasyPrint into the roster PDF, never served as a page: its inline styles are the PDF's layout.
NOT_SERVED = {"reports/roster_pdf.html"}
EXPECTED_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'none'",
}


def csp_directives(response) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip())


@pytest.mark.parametrize("who", [None, "master", "region_user"])
def test_every_page_carries_the_content_security_policy(world, who):
    client = world.client_for(getattr(world, who) if who else None)
    for url in (reverse("accounts:login"), reverse("reports:verify"), world.wuchang_hospital.get_absolute_url()):
        response = client.get(url)
        assert csp_directives(response) == EXPECTED_CSP, url


def served_templates():
    for template in sorted(TEMPLATES.rglob("*.html")):
        name = template.relative_to(TEMPLATES).as_posix()
        if name not in NOT_SERVED:
            yield name, template.read_text()


def test_no_served_template_has_inline_script_style_or_event_handlers():
    offenders = []
    for name, text in served_templates():
        for pattern in (r"<script(?![^>]*\bsrc=)", r"<style\b", r"\sstyle\s*=", r"\son[a-z]+\s*=", r"javascript:"):
            if re.search(pattern, text, re.IGNORECASE):
                offenders.append((name, pattern))
    assert not offenders


def test_pages_for_logged_in_accounts_are_never_stored(rworld):
    world = rworld.world
    for who in ("staff", "wuchang_user", "region_user"):
        client = world.client_for(getattr(world, who))
        for url in (reverse("trainees:list"), world.wuchang_hospital.get_absolute_url(), reverse("accounts:list")):
            response = client.get(url)
            assert response.status_code == 200, (who, url)
            assert "no-store" in response["Cache-Control"], (who, url)
            assert "private" in response["Cache-Control"]


def test_framing_sniffing_and_referrer_are_refused(world):
    response = world.client_for(world.master).get(world.wuchang_hospital.get_absolute_url())
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_session_and_csrf_cookies_are_http_only_and_same_site(world):
    client = Client()
    client.get(reverse("accounts:login"))
    response = client.post(reverse("accounts:login"), {"username": "wcyy", "password": "Correct-Horse-2026"})
    session = response.cookies["sessionid"]
    assert session["httponly"] and session["samesite"] == "Lax"
    csrf = client.cookies["csrftoken"]
    assert csrf["httponly"] and csrf["samesite"] == "Lax"


def test_production_settings_make_cookies_secure_and_send_hsts():
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DEBUG": "False",
        "SECRET_KEY": "pX3v-9QeKk2r7Jt_Lm4sZwYb8NcFh6UaDg1oRiTe5VyW0nQsMj",
        "ALLOWED_HOSTS": "exam.example.gov.cn",
        "DJANGO_SETTINGS_MODULE": "hbwsrc.settings",
    }
    names = [
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "CSRF_COOKIE_HTTPONLY",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "X_FRAME_OPTIONS",
        "SECURE_REFERRER_POLICY",
        "DEBUG",
    ]
    script = "import json, django; from django.conf import settings; django.setup(); " + (
        f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}))"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"] and values["SECURE_SSL_REDIRECT"]
    assert values["SESSION_COOKIE_HTTPONLY"] and values["CSRF_COOKIE_HTTPONLY"]
    assert values["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600 and values["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert values["X_FRAME_OPTIONS"] == "DENY" and values["SECURE_REFERRER_POLICY"] == "same-origin"
    assert values["DEBUG"] is False


# --- error pages -------------------------------------------------------------------------------------------------


def explode(request):
    raise RuntimeError("secret detail 11010519491231002X in an exception message")


urlpatterns = [path("test-only/explode/", explode), *project_urlpatterns]
handler500 = "hbwsrc.errors.server_error"


@pytest.mark.urls("tests.test_headers")
def test_a_server_error_shows_an_incident_id_and_no_traceback_and_logs_both(world, caplog):
    client = world.client_for(world.master)
    client.raise_request_exception = False
    with caplog.at_level(logging.ERROR, logger="hbwsrc.errors"):
        response = client.get("/test-only/explode/")
    assert response.status_code == 500
    page = response.content.decode()
    incident = re.search(r'id="incident-id">([0-9a-f]{12})<', page).group(1)
    assert "Traceback" not in page and "RuntimeError" not in page and "secret detail" not in page
    [record] = [r for r in caplog.records if r.name == "hbwsrc.errors"]
    assert incident in record.getMessage()
    assert record.exc_info and record.exc_info[0] is RuntimeError
    assert "no-store" in response["Cache-Control"]


def test_not_found_and_forbidden_pages_are_generic(world):
    client = world.client_for(world.master)
    not_found = client.get("/records/00000000-0000-0000-0000-000000000000/")
    assert not_found.status_code == 404
    assert "Traceback" not in not_found.content.decode()
    forbidden = client.get(reverse("trainees:conflicts"))
    assert forbidden.status_code == 403
    assert "Traceback" not in forbidden.content.decode()


def test_a_form_without_its_csrf_token_gets_the_generic_page(world):
    response = Client(enforce_csrf_checks=True).post(reverse("accounts:login"), {"username": "x", "password": "y"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "CSRF" not in page and "Traceback" not in page and 'href="/' in page


def console_output(logger_name: str, message: str, exc_info=None) -> str:
    """What the configured console handler writes for this record (after its filters)."""
    [handler] = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    assert any(isinstance(f, RedactFilter) for f in handler.filters)
    record = logging.getLogger(logger_name).makeRecord(logger_name, logging.ERROR, __file__, 1, message, (), exc_info)
    assert handler.filter(record)
    return handler.format(record)


def test_a_log_line_never_carries_a_full_resident_id_number():
    # Whatever a library or an exception message prints passes the console handler's filter.
    out = console_output("django.db", "duplicate key (id_number)=(11010519491231002X)")
    try:
        raise ValueError("440524188001010014 is taken")
    except ValueError:
        out += console_output("django.request", "Internal Server Error: /records/", sys.exc_info())
    assert "11010519491231002X" not in out and "440524188001010014" not in out
    assert "110105********002X" in out and "440524********0014" in out
