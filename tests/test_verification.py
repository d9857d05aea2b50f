"""Public roster verification: the summary, the person check, unknown codes, rate limiting, audit, bad input."""

import datetime
import html
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import AuditEvent
from hbwsrc import ratelimit
from reports.models import Roster, RosterEntry
from tests.record_helpers import make_person, make_record

SHA = "3f" * 32
VERIFY = reverse("reports:verify")


def zh(message: str) -> str:
    """``message`` as the zh-hans interface shows it (English until the catalogue translates it)."""
    with translation.override("zh-hans"):
        return translation.gettext(message)


@pytest.fixture
def frozen_clock(monkeypatch):
    """Keep the rate limiter inside one window, whenever the test runs."""
    monkeypatch.setattr(ratelimit.time, "time", lambda: 1_000_000.0)


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def make_roster(rworld, persons, *, status=Roster.Status.ACCEPTED, version=2, sha=SHA) -> Roster:
    """A roster written straight to the database, with one row per person (a passed record at 武昌医院)."""
    world = rworld.world
    institution = world.wuchang_hospital
    now = timezone.now()
    decided = status in (Roster.Status.ACCEPTED, Roster.Status.RETURNED)
    roster = Roster.objects.create(
        institution=institution,
        exam_year=rworld.year,
        version=version,
        status=status,
        row_count=len(persons),
        institution_name=institution.name,
        institution_uscc=institution.uscc,
        institution_licence=institution.licence_number,
        institution_head=institution.head_name,
        office_name=institution.office.name,
        finalised_by=world.master,
        submitted_at=now if status != Roster.Status.FINALISED else None,
        submitted_by=world.master if status != Roster.Status.FINALISED else None,
        decided_at=datetime.datetime(2027, 9, 15, 10, 0, tzinfo=datetime.UTC) if decided else None,
        decided_by=world.wuchang_user if decided else None,
        return_reason="材料不全" if status == Roster.Status.RETURNED else "",
        pdf_sha256=sha,
        pdf_state=Roster.PdfState.READY,
    )
    for position, person in enumerate(persons, start=1):
        record = make_record(person, institution, rworld.year, rworld.clinical, "2024-07-01", "2025-06-30")
        RosterEntry.objects.create(
            roster=roster,
            position=position,
            record=record,
            name=person.name,
            sex=person.sex,
            id_type=person.id_type,
            id_number=person.id_number,
            category=rworld.clinical.name,
            departments=record.departments,
            start_date=record.start_date,
            end_date=record.end_date,
            result=record.result,
        )
    return roster


@pytest.fixture
def persons(rworld):
    return [make_person(1, name="张三"), make_person(2, name="李四")]


@pytest.fixture
def roster(rworld, persons) -> Roster:
    return make_roster(rworld, persons)


def verify(params=None, *, path=VERIFY, ip="203.0.113.7"):
    return Client(REMOTE_ADDR=ip).get(path, params or {})


# --- the summary -------------------------------------------------------------------------------------------------


def test_a_valid_code_shows_institution_year_version_count_filed_status_date_and_sha256(roster):
    response = verify({"code": roster.verification_code})
    assert response.status_code == 200
    page = response.content.decode()
    assert '<dd id="verify-institution">武汉市武昌医院</dd>' in page
    assert f'<dd id="verify-year">{roster.exam_year.year}</dd>' in page
    assert '<dd id="verify-version">2</dd>' in page
    assert '<dd id="verify-count">2</dd>' in page
    assert zh("Filed") in page.split('id="verify-status"')[1].split("</dd>")[0]
    assert '<dd id="verify-date">2027-09-15</dd>' in page  # decided at 18:00 Beijing time, same day
    assert SHA in page


def test_the_summary_never_lists_names_or_id_numbers(roster, persons):
    page = verify({"code": roster.verification_code}).content.decode()
    for person in persons:
        assert person.name not in page
        assert person.id_number not in page


def test_a_roster_not_yet_filed_shows_its_own_status_and_submission_date(rworld, persons):
    roster = make_roster(rworld, persons[:1], status=Roster.Status.SUBMITTED)
    page = verify({"code": roster.verification_code}).content.decode()
    status = page.split('id="verify-status"')[1].split("</dd>")[0]
    assert zh("Submitted") in status
    assert zh("Filed") not in status
    assert zh("Submitted on") in page
    assert timezone.localdate(roster.submitted_at).isoformat() in page


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param(lambda code: code.lower(), id="lower-case"),
        pytest.param(lambda code: code.replace("-", ""), id="no-dashes"),
        pytest.param(lambda code: " " + code.replace("-", " ").lower() + " ", id="spaces"),
    ],
)
def test_a_code_typed_in_lower_case_or_without_dashes_finds_the_roster(roster, typed):
    response = verify({"code": typed(roster.verification_code)})
    assert response.status_code == 200
    assert '<dd id="verify-institution">武汉市武昌医院</dd>' in response.content.decode()


def test_a_code_typed_in_full_width_characters_finds_the_roster(roster):
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in roster.verification_code)
    response = verify({"code": full_width})
    assert response.status_code == 200
    assert SHA in response.content.decode()


def test_the_qr_code_url_shows_the_summary_with_the_code_filled_in(roster):
    response = verify(path=roster.get_verification_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert '<dd id="verify-count">2</dd>' in page
    assert f'value="{roster.verification_code}"' in page


def test_the_qr_code_url_accepts_a_lower_case_code_too(roster):
    response = verify(path=reverse("reports:verify_code", args=[roster.verification_code.lower()]))
    assert response.status_code == 200
    assert SHA in response.content.decode()


def test_the_empty_form_is_shown_without_a_result_and_without_being_logged(db):
    response = verify()
    assert response.status_code == 200
    assert 'name="code"' in response.content.decode()
    assert 'id="verify-institution"' not in response.content.decode()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.VERIFICATION).exists()


def test_verification_needs_no_login_and_is_not_cached(roster):
    response = verify({"code": roster.verification_code})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_verification_refuses_post(roster):
    response = Client().post(VERIFY, {"code": roster.verification_code})
    assert response.status_code == 405


# --- unknown codes -----------------------------------------------------------------------------------------------


def test_an_unknown_code_answers_404_saying_no_roster_has_it_without_mentioning_any_existing_code(roster):
    existing = roster.verification_code
    similar = existing[:-1] + ("2" if existing[-1] != "2" else "3")  # one character off
    response = verify({"code": similar})
    assert response.status_code == 404
    page = response.content.decode()
    assert zh("No roster has this verification code.") in page
    assert existing not in page
    assert "武汉市武昌医院" not in page
    assert "no-store" in response["Cache-Control"]


def test_a_similar_code_gets_exactly_the_same_answer_as_a_completely_different_one(roster):
    existing = roster.verification_code
    similar = existing[:-1] + ("2" if existing[-1] != "2" else "3")
    different = "ZZZZ-ZZZZ-ZZZZ-ZZZZ" if existing != "ZZZZ-ZZZZ-ZZZZ-ZZZZ" else "YYYY-YYYY-YYYY-YYYY"

    def page(code):
        text = verify({"code": code}).content.decode().replace(code, "CODE")
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)

    assert page(similar) == page(different)


# --- the person check --------------------------------------------------------------------------------------------


def test_a_person_with_matching_name_and_id_number_is_on_the_roster(roster, persons):
    response = verify({"code": roster.verification_code, "name": "李四", "id_number": persons[1].id_number})
    assert response.status_code == 200
    assert zh("This person is on this roster.") in response.content.decode()
    assert zh("This person is not on this roster.") not in response.content.decode()


def test_the_id_number_is_normalised_before_the_person_check(roster, persons):
    number = persons[0].id_number
    typed = " " + number[:6] + " " + number[6:].lower()
    response = verify({"code": roster.verification_code, "name": " 张三 ", "id_number": typed})
    assert zh("This person is on this roster.") in response.content.decode()


def test_the_right_id_number_with_a_wrong_name_is_not_on_the_roster(roster, persons):
    response = verify({"code": roster.verification_code, "name": "王五", "id_number": persons[0].id_number})
    assert response.status_code == 200
    page = response.content.decode()
    assert zh("This person is not on this roster.") in page
    assert zh("This person is on this roster.") not in page


def test_the_right_name_with_another_persons_id_number_is_not_on_the_roster(roster, persons):
    response = verify({"code": roster.verification_code, "name": "张三", "id_number": persons[1].id_number})
    assert zh("This person is not on this roster.") in response.content.decode()


def test_a_person_on_another_roster_is_not_on_this_one(rworld, roster):
    other = make_person(3, name="赵六")
    page = verify({"code": roster.verification_code, "name": "赵六", "id_number": other.id_number}).content.decode()
    assert zh("This person is not on this roster.") in page


def test_a_name_without_an_id_number_is_a_form_error_not_a_check(roster):
    response = verify({"code": roster.verification_code, "name": "张三"})
    assert response.status_code == 400
    page = response.content.decode()
    error = zh("Give both the full name and the ID number to check whether a person is on the roster.")
    assert html.escape(error) in page
    assert zh("This person is on this roster.") not in page
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.VERIFICATION).exists()


# --- rate limiting -----------------------------------------------------------------------------------------------


def test_the_21st_verification_in_a_minute_from_one_address_gets_429(roster, settings, frozen_clock):
    settings.VERIFY_RATE_LIMIT = (20, 60)
    client = Client(REMOTE_ADDR="198.51.100.1")
    statuses = [client.get(VERIFY, {"code": roster.verification_code}).status_code for _ in range(21)]
    assert statuses[:20] == [200] * 20
    assert statuses[20] == 429


def test_over_the_limit_the_code_is_not_checked_nor_logged(roster, settings, frozen_clock):
    settings.VERIFY_RATE_LIMIT = (2, 60)
    client = Client(REMOTE_ADDR="198.51.100.2")
    for _ in range(2):
        client.get(VERIFY, {"code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ"})
    response = client.get(VERIFY, {"code": roster.verification_code})
    assert response.status_code == 429
    page = response.content.decode()
    assert zh("Too many verifications from your address. Wait a minute and try again.") in page
    assert "武汉市武昌医院" not in page
    assert response["Retry-After"] == "60"
    assert "no-store" in response["Cache-Control"]
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.VERIFICATION).count() == 2


def test_the_qr_code_url_counts_towards_the_limit(roster, settings, frozen_clock):
    settings.VERIFY_RATE_LIMIT = (1, 60)
    client = Client(REMOTE_ADDR="198.51.100.3")
    assert client.get(roster.get_verification_url()).status_code == 200
    assert client.get(roster.get_verification_url()).status_code == 429


def test_the_limit_is_per_address(roster, settings, frozen_clock):
    settings.VERIFY_RATE_LIMIT = (1, 60)
    assert verify({"code": roster.verification_code}, ip="198.51.100.4").status_code == 200
    assert verify({"code": roster.verification_code}, ip="198.51.100.4").status_code == 429
    assert verify({"code": roster.verification_code}, ip="198.51.100.5").status_code == 200


def test_the_limiter_starts_again_in_the_next_window(monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    assert [ratelimit.hit("t", "k", 2, 60) for _ in range(3)] == [True, True, False]
    now[0] += 60
    assert ratelimit.hit("t", "k", 2, 60) is True


def test_the_limiter_keeps_scopes_apart():
    assert ratelimit.hit("one", "k", 1, 60) is True
    assert ratelimit.hit("two", "k", 1, 60) is True
    assert ratelimit.hit("one", "k", 1, 60) is False


# --- the audit trail ---------------------------------------------------------------------------------------------


def test_each_verification_is_logged_without_the_name_or_id_number(roster, persons):
    number = persons[0].id_number
    verify({"code": roster.verification_code.lower(), "name": "张三", "id_number": number}, ip="192.0.2.9")
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.VERIFICATION)
    assert event.changes == {
        "code": roster.verification_code,
        "found": True,
        "person_checked": True,
        "person_on_roster": True,
    }
    assert event.actor is None
    assert event.target_id == str(roster.public_id)
    assert event.ip_address == "192.0.2.9"
    stored = str(event.changes) + event.target_label + event.actor_username
    assert number not in stored
    assert number[-4:] not in str(event.changes)
    assert "张三" not in stored


def test_an_unknown_code_is_logged_as_not_found(db):
    verify({"code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ"})
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.VERIFICATION)
    assert event.changes == {
        "code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ",
        "found": False,
        "person_checked": False,
        "person_on_roster": None,
    }
    assert event.target_id == ""


def test_a_summary_only_verification_is_logged_as_no_person_checked(roster):
    verify(path=roster.get_verification_url())
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.VERIFICATION)
    assert event.changes["found"] is True
    assert event.changes["person_checked"] is False
    assert event.changes["person_on_roster"] is None


def test_a_person_not_on_the_roster_is_logged_as_such(roster, persons):
    verify({"code": roster.verification_code, "name": "王五", "id_number": persons[0].id_number})
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.VERIFICATION)
    assert event.changes["person_checked"] is True
    assert event.changes["person_on_roster"] is False


# --- malformed input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"code": "A" * 100_000}, id="100000-char-code"),
        pytest.param({"code": "ABCD-EFGH\x00-JKLM-NPQR"}, id="nul-in-code"),
        pytest.param({"code": "ABCD-EFGH-JKLM-NPQR", "name": "张\x00三", "id_number": "1"}, id="nul-in-name"),
        pytest.param({"code": "ABCD-EFGH-JKLM-NPQR", "name": "张三", "id_number": "4\x00"}, id="nul-in-id"),
        pytest.param({"code": "ABCD-EFGH-JKLM-NPQR", "name": "张三", "id_number": "9" * 5000}, id="long-id"),
        pytest.param({"code": "ABC"}, id="too-short"),
        pytest.param({"code": "ABCD-EFGH-JKLM-NPQR-STUV"}, id="too-long"),
        pytest.param({"code": "0000-1111-OOOO-IIII"}, id="letters-not-in-the-alphabet"),
        pytest.param({"name": "张三"}, id="no-code"),
    ],
)
def test_malformed_input_is_a_form_error_never_a_500(db, params):
    response = verify(params)
    assert response.status_code == 400
    assert 'class="field has-error"' in response.content.decode() or 'class="errors"' in response.content.decode()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.VERIFICATION).exists()


def test_a_nul_byte_in_the_qr_code_path_is_a_form_error(db):
    response = verify(path=VERIFY + "ABCD%00EFGH/")
    assert response.status_code == 400


def test_a_100000_character_code_in_the_path_is_a_form_error(db):
    response = verify(path=reverse("reports:verify_code", args=["A" * 100_000]))
    assert response.status_code == 400


def test_html_in_the_input_is_escaped(roster):
    script = "<script>alert(1)</script>"
    response = verify({"code": roster.verification_code, "name": script, "id_number": script})
    assert response.status_code == 200
    page = response.content.decode()
    assert script not in page
    assert html.escape(script) in page or "&lt;script&gt;" in page
    assert zh("This person is not on this roster.") in page


def test_html_in_the_code_is_escaped_in_the_form_error(db):
    response = verify({"code": '"><img src=x onerror=alert(1)>'})
    assert response.status_code == 400
    assert "<img src=x" not in response.content.decode()
