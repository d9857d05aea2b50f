"""Every URL refuses a POST without its CSRF token, and no GET changes anything stored (a state change needs a
POST: the page either refuses GET with 405 or shows a form or a confirmation)."""

import pytest
from django.apps import apps
from django.test import Client

from accounts.models import AuditEvent, UserSession
from reports.models import Roster
from tests.record_helpers import make_person, make_record
from tests.test_abuse_urls import OBJECT_URLS, PUBLIC_URLS, object_urls
from tests.url_walk import Route, admin_kwargs, routes
from trainees.models import ImportJob

# Audit events that record a reading, not a change.
READ_KINDS = {
    AuditEvent.Kind.LOGIN,
    AuditEvent.Kind.LOGOUT,
    AuditEvent.Kind.FULL_ID_VIEW,
    AuditEvent.Kind.EXPORT,
    AuditEvent.Kind.ELIGIBILITY_LOOKUP,
    AuditEvent.Kind.VERIFICATION,
}
STATE_APPS = {"accounts", "institutions", "trainees", "reports", "otp_totp", "otp_static", "guardian", "auth"}
NOT_STATE = {UserSession}  # last_seen moves with every request, by design


@pytest.fixture
def own(rworld) -> dict:
    """Objects of the 武昌 side, which the actors below may reach."""
    world = rworld.world
    record = make_record(
        make_person(1), world.wuchang_hospital, rworld.year, rworld.clinical, "2024-07-01", "2025-06-30"
    )
    roster = Roster.objects.create(
        institution=world.wuchang_hospital,
        exam_year=rworld.year,
        version=1,
        status=Roster.Status.SUBMITTED,
        institution_name=world.wuchang_hospital.name,
        office_name=world.wuchang.name,
        finalised_by=world.staff,
    )
    job = ImportJob.objects.create(institution=world.wuchang_hospital, created_by=world.staff, file="imports/x.csv")
    return {
        "account": world.staff,
        "office": world.wuchang,
        "institution": world.wuchang_hospital,
        "record": record,
        "roster": roster,
        "import_job": job,
        "exam_year": rworld.year,
    }


def urls_for(route: Route, own: dict, actor) -> list[str]:
    if route.is_admin:
        return [route.url(**admin_kwargs(route))]
    if route.name in PUBLIC_URLS:
        return [route.url(code="ABCD-EFGH-JKLM-NPQR")]
    if not route.params:
        return [route.url()]
    kind, _param = OBJECT_URLS[route.name]
    if kind == "session":
        row = UserSession.objects.filter(user=actor).first() or UserSession.objects.create(
            user=actor, key_hash="0" * 64
        )
        return object_urls(route, row)
    return object_urls(route, own[kind])


def state() -> dict:
    """Every stored row of the platform's tables (audit events of readings aside)."""
    snapshot = {}
    for model in apps.get_models():
        if model._meta.app_label not in STATE_APPS or model in NOT_STATE or model._meta.proxy:
            continue
        rows = model.objects.all()
        if model is AuditEvent:
            rows = rows.exclude(kind__in=READ_KINDS)
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in ("last_login", "updated_at")]
        snapshot[model._meta.label] = list(rows.order_by("pk").values_list(*fields))
    return snapshot


@pytest.mark.parametrize("who", ["staff", "region_user"])
def test_every_url_refuses_a_post_without_the_csrf_token(rworld, own, who):
    world = rworld.world
    actor = getattr(world, who)
    client = world.client_for(actor)
    client.handler.enforce_csrf_checks = True
    before = state()
    for route in routes():
        for url in urls_for(route, own, actor):
            response = client.post(url, {"confirm": "1", "reason": "x", "username": "x", "password": "x"})
            assert response.status_code == 403, (route.name, url, response.status_code)
            assert response.templates and response.templates[0].name == "403_csrf.html", route.name
    assert state() == before


def test_the_login_form_refuses_a_post_without_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "wcyy", "password": "Correct-Horse-2026"})
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGIN).exists()


@pytest.mark.parametrize("who", ["staff", "master", "wuchang_user", "wuhan_user", "region_user"])
def test_no_get_changes_anything_stored(rworld, own, who):
    world = rworld.world
    actor = getattr(world, who)
    client = world.client_for(actor)
    client.raise_request_exception = False
    skip = {"accounts:logout", "admin:logout"}
    before = state()
    for route in routes():
        if route.name in skip:
            continue
        for url in urls_for(route, own, actor):
            response = client.get(url)
            assert response.status_code < 500, (route.name, url)
            assert state() == before, (route.name, url, response.status_code)
