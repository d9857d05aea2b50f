"""Every URL of the project, asked by every role for objects of another institution, another office and another
region by their public ids: 404, or 403 where the role may not use the page at all (405 where the method is
refused) - never 200, never a redirect that did something, never 500. Anonymous visitors are sent to the login
page; the admin site answers only staff. A URL pattern this file does not know fails the test until it is added
to OBJECT_URLS (with the kind of object its parameters name) or to PUBLIC_URLS (with the reason)."""

import uuid

import pytest
from django.test import Client

from accounts.models import AuditEvent, UserSession
from institutions.models import Institution, Office
from reports.models import Roster
from reports.workflow import INSTITUTION_ACTIONS, OFFICE_ACTIONS
from tests.record_helpers import make_person, make_record
from tests.url_walk import Route, admin_kwargs, routes
from tests.world import RecordsWorld
from trainees.models import ImportJob, ProbationRecord

# URL name -> (kind of object, the parameter carrying its public id).
OBJECT_URLS = {
    "accounts:detail": ("account", "public_id"),
    "accounts:disable": ("account", "public_id"),
    "accounts:enable": ("account", "public_id"),
    "accounts:reset_password": ("account", "public_id"),
    "accounts:unlock": ("account", "public_id"),
    "accounts:reset_two_factor": ("account", "public_id"),
    "accounts:issue_office": ("office", "public_id"),
    "accounts:issue_institution": ("institution", "public_id"),
    "accounts:session_end": ("session", "public_id"),
    "trainees:exam_year_edit": ("exam_year", "public_id"),
    "trainees:import_detail": ("import_job", "public_id"),
    "trainees:import_report": ("import_job", "public_id"),
    "trainees:detail": ("record", "public_id"),
    "trainees:edit": ("record", "public_id"),
    "trainees:withdraw": ("record", "public_id"),
    "trainees:history": ("record", "public_id"),
    "reports:roster_detail": ("roster", "public_id"),
    "reports:roster_pdf": ("roster", "public_id"),
    "reports:roster_scan": ("roster", "public_id"),
    "reports:roster_status": ("roster", "public_id"),
    "reports:roster_transition": ("roster", "public_id"),
    "reports:filing_reopen": ("institution", "institution_id"),
    "reports:dashboard_office": ("office", "public_id"),
    "reports:not_submitted": ("office", "public_id"),
    "institutions:office_detail": ("office", "public_id"),
    "institutions:office_edit": ("office", "public_id"),
    "institutions:office_create": ("office", "public_id"),
    "institutions:institution_create": ("office", "public_id"),
    "institutions:institution_detail": ("institution", "public_id"),
    "institutions:institution_edit": ("institution", "public_id"),
    "institutions:institution_profile": ("institution", "public_id"),
}
# Patterns with parameters that name no object of anybody's.
PUBLIC_URLS = {
    "reports:verify_code": "public by design: whoever holds a paper roster checks its code (rate limited)",
}
ROLES = [
    "region_user",
    "wuhan_user",
    "wuchang_user",
    "hongshan_user",
    "yichang_user",
    "hunan_user",
    "master",
    "staff",
    "hongshan_master",
    "yichang_master",
    "hunan_master",
]
REFUSED = {403, 404, 405}
# Audit kinds that only record a reading: anything else appearing during the walk is a change that got through.
READ_KINDS = {AuditEvent.Kind.LOGIN, AuditEvent.Kind.FULL_ID_VIEW}


@pytest.fixture
def targets(rworld: RecordsWorld) -> dict[str, list]:
    """One object of every kind at every institution (and office, and region), each with a home node."""
    world = rworld.world
    institutions = list(Institution.objects.order_by("pk"))
    records, rosters, jobs = [], [], []
    for serial, institution in enumerate(institutions, start=1):
        year = rworld.hunan_year if institution.region_id == world.hunan.pk else rworld.year
        person = make_person(100 + serial)
        records.append(make_record(person, institution, year, rworld.clinical, "2024-07-01", "2025-06-30"))
        master = institution.accounts.filter(is_master=True).first() or world.region_user
        rosters.append(
            Roster.objects.create(
                institution=institution,
                exam_year=year,
                version=1,
                status=Roster.Status.SUBMITTED,
                institution_name=institution.name,
                office_name=institution.office.name,
                finalised_by=master,
            )
        )
        jobs.append(ImportJob.objects.create(institution=institution, created_by=master, file="imports/x.csv"))
    sessions = [
        UserSession.objects.create(user=user, key_hash=uuid.uuid4().hex * 2)
        for user in (world.master, world.hunan_master, world.wuchang_user)
    ]
    return {
        "account": [getattr(world, role) for role in ROLES],
        "office": list(Office.objects.order_by("path")),
        "institution": institutions,
        "record": records,
        "roster": rosters,
        "import_job": jobs,
        "exam_year": [rworld.year, rworld.hunan_year],
        "session": sessions,
    }


def home_of(kind, obj):
    if kind == "account":
        return obj.node
    if kind in ("office", "institution"):
        return obj
    if kind in ("record", "roster", "import_job"):
        return obj.institution
    if kind == "exam_year":
        return Office.objects.get(region=obj.region, parent=None)
    raise AssertionError(kind)


def foreign_to(actor, kind, obj) -> bool:
    """Outside everything ``actor``'s node holds: another institution, another office, another region."""
    if kind == "session":
        return obj.user_id != actor.pk  # one's own sessions only, whoever one is
    home = home_of(kind, obj)
    if actor.office_id:
        return not home.path.startswith(actor.office.path)
    return not (isinstance(home, Institution) and home.pk == actor.institution_id)


def region_of(kind, obj):
    return obj.user.node.region_id if kind == "session" else home_of(kind, obj).region_id


def parent_of(node):
    return node.parent_id if isinstance(node, Office) else node.office_id


def sample(actor, kind, objects) -> list:
    """Up to three foreign objects: one near (same region, same parent office), one elsewhere in the region, one in
    the other region."""
    foreign = [obj for obj in objects if foreign_to(actor, kind, obj)]
    near, far, other = [], [], []
    parent = actor.office.parent_id if actor.office_id else actor.institution.office_id
    for obj in foreign:
        if region_of(kind, obj) != actor.node.region_id:
            other.append(obj)
        elif kind != "session" and parent_of(home_of(kind, obj)) == parent:
            near.append(obj)
        else:
            far.append(obj)
    return [group[0] for group in (near, far, other) if group]


def object_urls(route: Route, obj) -> list[str]:
    kind, param = OBJECT_URLS[route.name]
    if route.name == "reports:roster_transition":
        return [route.url(public_id=obj.public_id, action=a) for a in sorted(INSTITUTION_ACTIONS | OFFICE_ACTIONS)]
    return [route.url(**{param: obj.public_id})]


def project_routes() -> list[Route]:
    return [route for route in routes() if not route.is_admin]


def changes_recorded() -> list[str]:
    return list(AuditEvent.objects.exclude(kind__in=READ_KINDS).values_list("kind", flat=True))


def test_every_url_pattern_with_parameters_is_covered_here():
    unknown = [
        route.name
        for route in project_routes()
        if route.params and route.name not in OBJECT_URLS and route.name not in PUBLIC_URLS
    ]
    assert not unknown, f"add these URLs to OBJECT_URLS or PUBLIC_URLS in {__file__}"
    stale = set(OBJECT_URLS) - {route.name for route in project_routes()}
    assert not stale


@pytest.mark.parametrize("name", sorted(OBJECT_URLS))
def test_no_role_reaches_another_institutions_offices_or_regions_objects(rworld, targets, name):
    world = rworld.world
    [route] = [r for r in project_routes() if r.name == name]
    kind, _param = OBJECT_URLS[name]
    before = {
        "records": list(ProbationRecord.objects.order_by("pk").values_list("pk", "withdrawn_at", "updated_at")),
        "rosters": list(Roster.objects.order_by("pk").values_list("pk", "status", "scan")),
        "sessions": UserSession.objects.count(),
    }
    audit_before = changes_recorded()
    checked = 0
    for role in ROLES:
        actor = getattr(world, role)
        client = world.client_for(actor)
        for obj in sample(actor, kind, targets[kind]):
            for url in object_urls(route, obj):
                for method in ("get", "post"):
                    response = getattr(client, method)(url)
                    assert response.status_code in REFUSED, (role, method, url, response.status_code)
                    checked += 1
    assert checked
    assert changes_recorded() == audit_before
    after_sessions = UserSession.objects.count()
    assert (
        list(ProbationRecord.objects.order_by("pk").values_list("pk", "withdrawn_at", "updated_at"))
        == (before["records"])
    )
    assert list(Roster.objects.order_by("pk").values_list("pk", "status", "scan")) == before["rosters"]
    assert after_sessions >= before["sessions"]  # logins add rows; nothing was ended
    assert all(UserSession.objects.filter(pk=s.pk).exists() for s in targets["session"])


PUBLIC_ROUTES = {
    "home",  # redirects to the login page itself
    "healthz",
    "accounts:login",
    "accounts:logout",
    "reports:verify",
    "reports:verify_code",
    "set_language",
}


def test_the_public_pages_are_exactly_the_expected_ones():
    """Every other route is walked below as an anonymous visitor; a new public page must be added here knowingly."""
    names = {r.name for r in routes() if not r.is_admin}
    assert PUBLIC_ROUTES <= names


@pytest.mark.parametrize(
    "route", [r for r in routes() if not r.is_admin and r.name not in PUBLIC_ROUTES], ids=lambda r: r.name
)
def test_anonymous_visitors_are_sent_to_the_login_page_or_refused(rworld, targets, route):
    if route.params:
        kind, param = OBJECT_URLS[route.name]
        urls = object_urls(route, targets[kind][0])
    else:
        urls = [route.url()]
    for url in urls:
        for method in ("get", "post"):
            response = getattr(Client(), method)(url)
            assert response.status_code in (302, 405), (method, url, response.status_code)
            if response.status_code == 302:
                assert response["Location"].startswith("/accounts/login/"), (method, url)


@pytest.mark.parametrize("role", [None, *ROLES])
def test_no_page_without_parameters_fails_for_any_role(rworld, targets, role):
    """GET every page, then POST an empty form to it: refused, shown or done, but never a server error."""
    world = rworld.world
    skip = {"accounts:logout", "admin:logout"}
    client = world.client_for(getattr(world, role) if role else None)
    client.raise_request_exception = False
    for route in project_routes():
        if route.params or route.name in skip:
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(route.url())
            assert response.status_code < 500, (role, method, route.name, response.status_code)
            if role is None and response.status_code == 200:
                assert route.name in {"accounts:login", "healthz", "reports:verify", "set_language"}, route.name


@pytest.mark.parametrize("role", [None, "region_user", "master", "staff"])
def test_the_admin_site_answers_only_staff(rworld, targets, role):
    world = rworld.world
    client = world.client_for(getattr(world, role) if role else None)
    client.raise_request_exception = False
    admin_routes = [r for r in routes() if r.is_admin]
    assert admin_routes
    logins = ("/admin/login/", "/accounts/login/")
    for route in admin_routes:
        url = route.url(**admin_kwargs(route))
        response = client.get(url)
        assert response.status_code in (302, 403, 405) or route.name == "admin:login", (
            route.name,
            response.status_code,
        )
        if response.status_code == 200:  # a login form; for a non-staff account it says it is not allowed
            assert response.templates and "login" in response.templates[0].name, route.name
        if response.status_code == 302:
            # to a login page; the admin's logout sends a non-staff visitor to the index, which does
            expected = (*logins, "/admin/") if route.name == "admin:logout" else logins
            assert response["Location"].startswith(expected), (route.name, response["Location"])
