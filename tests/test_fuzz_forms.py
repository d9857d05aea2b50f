"""Hypothesis throws junk at every form: random unicode, 100,000-character strings, NUL bytes, SQL and HTML
fragments, other institutions', offices' and regions' ids in the fields and in extra hidden fields. Whatever
arrives: never a server error, nothing stored outside what the account may write, nothing rendered unescaped."""

import datetime
import os
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User
from institutions.models import Institution, Office
from reports.models import Roster, RosterEntry
from tests.auth_helpers import authenticator_for
from tests.record_helpers import make_person, make_record
from tests.test_institution_profile import FULL_PROFILE
from trainees.models import ExamYear, ProbationRecord

SCRIPT = '<script>alert("hbwsrc")</script>'
IMG = '"><img src=x onerror=alert(1)>'
NASTY = [
    "",
    " ",
    "\x00",
    "abc\x00def",
    "x" * 100_000,
    "' OR '1'='1",
    "1; DROP TABLE accounts_user; --",
    "\\'; SELECT pg_sleep(5); --",
    SCRIPT,
    IMG,
    "{{ request.user.password }}",
    "{% debug %}",
    "%(password)s %s %n",
    "\u202e\u202dRTL",
    "１２３４５６７８９０",
    "😀" * 20,
    "\r\n\r\nSet-Cookie: x=y",
    "../../../../etc/passwd",
    "-1",
    "0",
    "99999999999999999999999",
    "1e309",
    "NaN",
    "2024-02-30",
    "0000-00-00",
    "9999-12-31",
]
HIDDEN = ["id", "pk", "public_id", "institution", "office", "parent", "region", "user", "created_by", "exam_year"]
MARKERS = [SCRIPT, "<img src=x onerror"]
FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=False,
)


@dataclass
class Case:
    actor: str | None
    url: Callable
    data: Callable  # (rworld, objects) -> valid data, the base the junk is mixed into
    method: str = "post"
    check: Callable = lambda rworld, objects: None  # what must hold of the database afterwards
    upload: bool = False


def foreign_ids(rworld, objects) -> list[str]:
    """Ids (primary keys and public ids) of things that belong to the other region or to other institutions."""
    world = rworld.world
    things = [world.hunan_office, world.hunan_hospital, world.hunan_master, world.yichang, world.hongshan_centre]
    things += [rworld.hunan_year, objects["hunan_record"], objects["hunan_roster"]]
    return [str(t.pk) for t in things] + [str(t.public_id) for t in things]


def record_check(rworld, objects):
    world = rworld.world
    entered = ProbationRecord.objects.exclude(pk__in=[objects["record"].pk, objects["hunan_record"].pk])
    assert set(entered.values_list("institution", flat=True)) <= {world.wuchang_hospital.pk}
    assert set(entered.values_list("exam_year__region", flat=True)) <= {world.hubei.pk}


def issue_check(rworld, objects):
    world = rworld.world
    issued = User.objects.filter(issued_by=world.wuhan_user)
    assert set(issued.values_list("office", flat=True)) <= {world.wuchang.pk}
    assert not issued.filter(is_staff=True).exists() and not issued.filter(is_superuser=True).exists()


def office_check(rworld, objects):
    world = rworld.world
    new = Office.objects.exclude(pk__in=objects["offices"])
    assert all(office.path.startswith(world.wuhan.path) and office.pk != world.wuhan.pk for office in new)


def institution_check(rworld, objects):
    world = rworld.world
    new = Institution.objects.exclude(pk__in=objects["institutions"])
    assert all(institution.path.startswith(world.wuhan.path) for institution in new)


def exam_year_check(rworld, objects):
    hunan = ExamYear.objects.get(pk=rworld.hunan_year.pk)
    assert (hunan.year, hunan.is_current) == (rworld.hunan_year.year, True)
    assert set(ExamYear.objects.values_list("region", flat=True)) <= {rworld.world.hubei.pk, rworld.world.hunan.pk}


def roster_check(rworld, objects):
    hunan = Roster.objects.get(pk=objects["hunan_roster"].pk)
    assert hunan.status == Roster.Status.SUBMITTED
    assert not RosterEntry.objects.filter(roster=hunan, flagged=True).exists()


def profile_check(rworld, objects):
    others = Institution.objects.exclude(pk=rworld.world.wuchang_hospital.pk)
    assert not others.filter(address__contains="x" * 10).exists()


CASES = {
    "record": Case("staff", lambda o: reverse("trainees:create"), lambda r, o: r.record_data(), check=record_check),
    "record_edit": Case(
        "staff",
        lambda o: reverse("trainees:edit", args=[o["record"].public_id]),
        lambda r, o: r.record_data(id_number=o["record"].person.id_number),
        check=record_check,
    ),
    "profile": Case(
        "master",
        lambda o: reverse("institutions:institution_profile", args=[o["wuchang_hospital"].public_id]),
        lambda r, o: dict(FULL_PROFILE),
        check=profile_check,
    ),
    "issue_account": Case(
        "wuhan_user",
        lambda o: reverse("accounts:issue_office", args=[o["wuchang"].public_id]),
        lambda r, o: {"username": "clerk", "full_name": "张三", "phone": "027-1", "permissions": "manage_accounts"},
        check=issue_check,
    ),
    "office": Case(
        "wuhan_user",
        lambda o: reverse("institutions:office_create", args=[o["wuhan"].public_id]),
        lambda r, o: {
            "name": "新区",
            "kind": "county",
            "division_code": "420199",
            "contact_person": "",
            "contact_phone": "",
        },
        check=office_check,
    ),
    "institution": Case(
        "wuhan_user",
        lambda o: reverse("institutions:institution_create", args=[o["wuchang"].public_id]),
        lambda r, o: {"name": "新医院", "office": str(o["wuchang"].pk), "contact_person": "", "contact_phone": ""},
        check=institution_check,
    ),
    "exam_year": Case(
        "region_user",
        lambda o: reverse("trainees:exam_year_create"),
        lambda r, o: {
            "year": "2031",
            "cutoff": "2031-08-31",
            "entry_opens": "2030-12-25",
            "entry_closes": "2031-08-31",
            "filing_opens": "2031-09-01",
            "filing_closes": "2031-09-30",
            "is_current": "",
        },
        check=exam_year_check,
    ),
    "withdraw": Case(
        "staff",
        lambda o: reverse("trainees:withdraw", args=[o["record"].public_id]),
        lambda r, o: {"reason": "录入重复"},
        check=record_check,
    ),
    "return_roster": Case(
        "wuchang_user",
        lambda o: reverse("reports:roster_transition", args=[o["roster"].public_id, "return"]),
        lambda r, o: {"reason": "第1行有误", "flagged": "1"},
        check=roster_check,
    ),
    "scan": Case(
        "staff",
        lambda o: reverse("reports:roster_scan", args=[o["roster"].public_id]),
        lambda r, o: {"scan": "%PDF-1.7\n%%EOF"},
        check=roster_check,
        upload=True,
    ),
    "verify": Case(
        None,
        lambda o: reverse("reports:verify"),
        lambda r, o: {"code": o["roster"].verification_code, "name": "学员1", "id_number": "11010519491231002X"},
    ),
    "lookup": Case(
        "wuchang_user", lambda o: reverse("reports:lookup"), lambda r, o: {"id_number": "11010519491231002X"}
    ),
    "login": Case(None, lambda o: reverse("accounts:login"), lambda r, o: {"username": "wcyy", "password": "x"}),
    "password_change": Case(
        "hongshan_master",
        lambda o: reverse("accounts:password_change"),
        lambda r, o: {"old_password": "x", "new_password1": "Lotus-Yellow-Crane-77", "new_password2": "x"},
    ),
    "two_factor_code": Case(
        "yichang_master", lambda o: reverse("accounts:two_factor_verify"), lambda r, o: {"token": "123456"}
    ),
}
# Pages that show what the forms may have stored, checked for unescaped HTML after the junk.
SHOWN_BY = {
    "record": ["trainees:list"],
    "record_edit": ["trainees:list"],
    "profile": ["institutions:institution_list"],
    "issue_account": ["accounts:list"],
    "office": ["institutions:office_list"],
    "institution": ["institutions:institution_list"],
}


@pytest.fixture
def objects(rworld, settings):
    settings.VERIFY_RATE_LIMIT = (10_000, 60)
    settings.TWO_FACTOR_RATE_LIMIT = (10_000, 60)
    world = rworld.world
    record = make_record(
        make_person(1), world.wuchang_hospital, rworld.year, rworld.clinical, "2024-07-01", "2025-06-30"
    )
    hunan_record = make_record(
        make_person(2), world.hunan_hospital, rworld.hunan_year, rworld.clinical, "2024-07-01", "2025-06-30"
    )

    def roster(record, user):
        institution, year = record.institution, record.exam_year
        made = Roster.objects.create(
            institution=institution,
            exam_year=year,
            version=1,
            status=Roster.Status.SUBMITTED,
            institution_name=institution.name,
            office_name=institution.office.name,
            finalised_by=user,
            row_count=1,
        )
        person = record.person
        RosterEntry.objects.create(
            roster=made,
            record=record,
            position=1,
            name=person.name,
            sex="M",
            id_type="resident",
            id_number=person.id_number,
            category="110",
            departments="内科",
            start_date=datetime.date(2024, 7, 1),
            end_date=datetime.date(2025, 6, 30),
            result="passed",
        )
        return made

    authenticator_for(world.yichang_master)
    return {
        "record": record,
        "hunan_record": hunan_record,
        "roster": roster(record, world.staff),
        "hunan_roster": roster(hunan_record, world.hunan_master),
        "wuchang": world.wuchang,
        "wuhan": world.wuhan,
        "wuchang_hospital": world.wuchang_hospital,
        "offices": list(Office.objects.values_list("pk", flat=True)),
        "institutions": list(Institution.objects.values_list("pk", flat=True)),
    }


def junk(valid, foreign):
    return st.one_of(st.just(valid), st.sampled_from(NASTY), st.text(max_size=30), st.sampled_from(foreign))


def form_data(base: dict, foreign: list[str]):
    fields = {name: junk(value, foreign) for name, value in base.items()}
    hidden = {
        name: st.one_of(st.none(), st.sampled_from(foreign), st.sampled_from(NASTY[:12]))
        for name in HIDDEN
        if name not in base
    }
    return st.fixed_dictionaries(fields, optional=hidden)


def without_none(data: dict) -> dict:
    return {name: value for name, value in data.items() if value is not None}


@pytest.mark.parametrize("name", sorted(CASES))
def test_junk_in_any_form_is_never_a_server_error_never_stored_wrongly_never_rendered_raw(rworld, objects, name):
    case = CASES[name]
    world = rworld.world
    client = world.client_for(getattr(world, case.actor) if case.actor else None)
    client.raise_request_exception = False
    url = case.url(objects)
    foreign = foreign_ids(rworld, objects)

    @FUZZ
    @given(data=form_data(case.data(rworld, objects), foreign), upload_bytes=st.binary(max_size=2048))
    def fuzz(data, upload_bytes):
        data = without_none(data)
        if case.upload:
            # The test client sends only a file name's last part (encode_file), and Django refuses to make an
            # uploaded file of a name without one ("/", ".."): such a name never reaches the view.
            name_typed = os.path.basename(str(data.pop("scan", "scan.pdf"))[:200].replace("\x00", ""))
            name_typed = name_typed if name_typed not in ("", ".", "..") else "scan.pdf"
            data["scan"] = SimpleUploadedFile(name_typed, upload_bytes)
        response = getattr(client, case.method)(url, data)
        assert response.status_code < 500, response.status_code
        if response.get("Content-Type", "").startswith("text/html"):
            page = response.content.decode()
            assert not any(marker in page for marker in MARKERS)
        case.check(rworld, objects)

    fuzz()
    for page_name in SHOWN_BY.get(name, []):
        page = client.get(reverse(page_name)).content.decode()
        assert not any(marker in page for marker in MARKERS), page_name
