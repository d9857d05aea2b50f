"""Public roster verification: the summary, the person check, unknown codes, rate limiting, audit, bad input, and
the rule that a name or an ID number never travels in a URL (the person check is a POST of the form)."""

import datetime
import html
import logging
import re
from urllib.parse import quote

import pytest
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
    """A GET: the empty form, or the summary of the code in the query string or the path."""
    return Client(REMOTE_ADDR=ip).get(path, params or {})


def check(data, *, path=VERIFY, ip="203.0.113.7"):
    """A POST of the form: the summary and, given a name and an ID number, the person check."""
    return Client(REMOTE_ADDR=ip).post(path, data)


def verification_events():
    return AuditEvent.objects.filter(kind=AuditEvent.Kind.VERIFICATION)


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


def test_the_form_is_posted_with_its_csrf_token_never_sent_as_a_get(roster):
    for response in (verify(), verify(path=roster.get_verification_url())):
        page = response.content.decode()
        before_fields = page[: page.index('name="id_number"')]
        form = re.findall(r"<form [^>]*>", before_fields)[-1]  # the form holding the code, name and ID number
        assert 'method="post"' in form
        assert 'name="csrfmiddlewaretoken"' in before_fields[before_fields.index(form) :]


# --- no name or ID number in a URL ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"name": "张三", "id_number": "ID"}, id="name-and-id"),
        pytest.param({"id_number": "ID"}, id="id-only"),
        pytest.param({"name": "张三"}, id="name-only"),
        pytest.param({"name": "", "id_number": ""}, id="empty-fields"),
    ],
)
def test_a_get_carrying_a_name_or_an_id_number_is_refused_with_400_and_not_checked(roster, persons, params, caplog):
    number = persons[0].id_number
    params = {"code": roster.verification_code} | {k: number if v == "ID" else v for k, v in params.items()}
    with caplog.at_level(logging.DEBUG):
        response = verify(params)
    assert response.status_code == 400
    page = response.content.decode()
    english = (
        "A name or an ID number must not be sent in the web address. Enter them in the form below and press Verify."
    )
    assert zh(english) != english  # the catalogue translates it
    assert zh(english) in page
    # Neither value is echoed, nothing is checked, nothing is logged or audited.
    assert number not in page and "张三" not in page
    assert zh("This person is on this roster.") not in page
    assert zh("This person is not on this roster.") not in page
    assert 'id="verify-institution"' not in page
    assert not verification_events().exists()
    assert number not in caplog.text and "张三" not in caplog.text
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    # The code is kept in the form, ready for the POST.
    assert f'value="{roster.verification_code}"' in page


def test_a_get_of_the_qr_code_url_with_an_id_number_is_refused_too(roster, persons):
    response = verify({"id_number": persons[0].id_number}, path=roster.get_verification_url())
    assert response.status_code == 400
    assert persons[0].id_number not in response.content.decode()
    assert not verification_events().exists()


def test_a_post_whose_url_carries_an_id_number_is_refused_too(roster, persons):
    number = persons[0].id_number
    response = check(
        {"code": roster.verification_code, "name": "张三", "id_number": number}, path=f"{VERIFY}?id_number={number}"
    )
    assert response.status_code == 400
    assert number not in response.content.decode()
    assert not verification_events().exists()


def test_a_refused_get_does_not_count_towards_the_limit(roster, persons, settings, frozen_clock):
    settings.VERIFY_RATE_LIMIT = (1, 60)
    client = Client(REMOTE_ADDR="198.51.100.9")
    data = {"code": roster.verification_code, "name": "张三", "id_number": persons[0].id_number}
    assert client.get(VERIFY, data).status_code == 400
    assert client.post(VERIFY, data).status_code == 200


def test_a_post_without_the_csrf_token_is_refused_with_403_and_not_checked(roster, persons):
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR="198.51.100.10")
    data = {"code": roster.verification_code, "name": "张三", "id_number": persons[0].id_number}
    response = client.post(VERIFY, data)
    assert response.status_code == 403
    assert zh("This person is on this roster.") not in response.content.decode()
    assert not verification_events().exists()


def test_an_anonymous_visitor_posts_the_form_with_the_token_the_page_gave_him(roster, persons):
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR="198.51.100.11")
    page = client.get(roster.get_verification_url()).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = {"code": roster.verification_code, "name": "张三", "id_number": persons[0].id_number}
    response = client.post(VERIFY, data | {"csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert zh("This person is on this roster.") in response.content.decode()


def urls_in(response) -> list[str]:
    """Every URL a response carries: its Location and Refresh headers and every link, source or form target."""
    urls = [response.get(header, "") for header in ("Location", "Refresh", "Content-Location")]
    page = response.content.decode()
    urls += re.findall(r'(?:href|src|action|formaction|content|data-url)\s*=\s*"([^"]*)"', page)
    urls += re.findall(r"(?:href|src|action|formaction|content|data-url)\s*=\s*'([^']*)'", page)
    urls += re.findall(r"url\(([^)]*)\)", page)
    return urls


def test_no_response_of_the_person_check_carries_a_url_with_the_id_number(rworld, roster, persons, settings):
    number = persons[0].id_number
    unknown = "ZZZZ-ZZZZ-ZZZZ-ZZZZ"
    posts = [
        (VERIFY, {"code": roster.verification_code, "name": "张三", "id_number": number}),  # on the roster
        (VERIFY, {"code": roster.verification_code, "name": "王五", "id_number": number}),  # not on it
        (roster.get_verification_url(), {"name": "张三", "id_number": number}),  # the code in the path
        (VERIFY, {"code": unknown, "name": "张三", "id_number": number}),  # no such roster
        (VERIFY, {"code": roster.verification_code, "name": "", "id_number": number}),  # form error
    ]
    responses = [check(data, path=path) for path, data in posts]
    assert [r.status_code for r in responses] == [200, 200, 200, 404, 400]
    settings.VERIFY_RATE_LIMIT = (0, 60)
    responses.append(check(posts[0][1]))
    assert responses[-1].status_code == 429
    for response in responses:
        urls = urls_in(response)
        assert any("/verify/" in url for url in urls)  # the form's own target was found: the scan works
        for url in urls:
            assert number not in url and quote(number) not in url and number.lower() not in url, url


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


def test_a_person_check_with_a_similar_code_gets_the_same_answer_as_with_a_completely_different_one(roster, persons):
    existing = roster.verification_code
    similar = existing[:-1] + ("2" if existing[-1] != "2" else "3")
    different = "ZZZZ-ZZZZ-ZZZZ-ZZZZ" if existing != "ZZZZ-ZZZZ-ZZZZ-ZZZZ" else "YYYY-YYYY-YYYY-YYYY"

    def answer(code):
        response = check({"code": code, "name": "张三", "id_number": persons[0].id_number})
        assert response.status_code == 404
        text = response.content.decode().replace(code, "CODE")
        assert zh("This person is not on this roster.") not in text and zh("This person is on this roster.") not in text
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)

    assert answer(similar) == answer(different)


# --- the person check --------------------------------------------------------------------------------------------


def test_a_person_with_matching_name_and_id_number_is_on_the_roster(roster, persons):
    response = check({"code": roster.verification_code, "name": "李四", "id_number": persons[1].id_number})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert '<dd id="verify-count">2</dd>' in response.content.decode()  # the same summary as the GET
    assert SHA in response.content.decode()
    assert zh("This person is on this roster.") in response.content.decode()
    assert zh("This person is not on this roster.") not in response.content.decode()


def test_the_id_number_is_normalised_before_the_person_check(roster, persons):
    number = persons[0].id_number
    typed = " " + number[:6] + " " + number[6:].lower()
    response = check({"code": roster.verification_code, "name": " 张三 ", "id_number": typed})
    assert zh("This person is on this roster.") in response.content.decode()


def test_the_right_id_number_with_a_wrong_name_is_not_on_the_roster(roster, persons):
    response = check({"code": roster.verification_code, "name": "王五", "id_number": persons[0].id_number})
    assert response.status_code == 200
    page = response.content.decode()
    assert zh("This person is not on this roster.") in page
    assert zh("This person is on this roster.") not in page


def test_the_right_name_with_another_persons_id_number_is_not_on_the_roster(roster, persons):
    response = check({"code": roster.verification_code, "name": "张三", "id_number": persons[1].id_number})
    assert zh("This person is not on this roster.") in response.content.decode()


def test_the_person_check_may_be_posted_to_the_qr_code_url(roster, persons):
    response = check({"name": "张三", "id_number": persons[0].id_number}, path=roster.get_verification_url())
    assert response.status_code == 200
    assert zh("This person is on this roster.") in response.content.decode()
    assert verification_events().get().changes["person_checked"] is True


def test_a_person_on_another_roster_is_not_on_this_one(rworld, roster):
    other = make_person(3, name="赵六")
    page = check({"code": roster.verification_code, "name": "赵六", "id_number": other.id_number}).content.decode()
    assert zh("This person is not on this roster.") in page


def test_a_name_without_an_id_number_is_a_form_error_not_a_check(roster):
    response = check({"code": roster.verification_code, "name": "张三"})
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


def test_person_checks_and_summaries_share_one_limit(roster, persons, settings, frozen_clock):
    settings.VERIFY_RATE_LIMIT = (2, 60)
    client = Client(REMOTE_ADDR="198.51.100.6")
    person = {"code": roster.verification_code, "name": "张三", "id_number": persons[0].id_number}
    assert client.get(roster.get_verification_url()).status_code == 200
    assert client.post(VERIFY, person).status_code == 200
    response = client.post(VERIFY, person)
    assert response.status_code == 429
    assert zh("This person is on this roster.") not in response.content.decode()
    assert persons[0].id_number not in response.content.decode()
    assert response["Retry-After"] == "60"
    assert "no-store" in response["Cache-Control"]
    assert client.get(VERIFY, {"code": roster.verification_code}).status_code == 429
    assert verification_events().count() == 2
    assert Client(REMOTE_ADDR="198.51.100.7").post(VERIFY, person).status_code == 200


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
    check({"code": roster.verification_code.lower(), "name": "张三", "id_number": number}, ip="192.0.2.9")
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
    check({"code": roster.verification_code, "name": "王五", "id_number": persons[0].id_number})
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.VERIFICATION)
    assert event.changes["person_checked"] is True
    assert event.changes["person_on_roster"] is False


# --- malformed input ---------------------------------------------------------------------------------------------


MALFORMED_CODES = [
    pytest.param({"code": "A" * 100_000}, id="100000-char-code"),
    pytest.param({"code": "ABCD-EFGH\x00-JKLM-NPQR"}, id="nul-in-code"),
    pytest.param({"code": "ABC"}, id="too-short"),
    pytest.param({"code": "ABCD-EFGH-JKLM-NPQR-STUV"}, id="too-long"),
    pytest.param({"code": "0000-1111-OOOO-IIII"}, id="letters-not-in-the-alphabet"),
]
MALFORMED_PERSONS = [
    pytest.param({"code": "ABCD-EFGH-JKLM-NPQR", "name": "张\x00三", "id_number": "1"}, id="nul-in-name"),
    pytest.param({"code": "ABCD-EFGH-JKLM-NPQR", "name": "张三", "id_number": "4\x00"}, id="nul-in-id"),
    pytest.param({"code": "ABCD-EFGH-JKLM-NPQR", "name": "张三", "id_number": "9" * 5000}, id="long-id"),
    pytest.param({"name": "张三"}, id="no-code"),
    pytest.param({}, id="empty-post"),
]


@pytest.mark.parametrize(
    ("send", "params"),
    [pytest.param(verify, p.values[0], id=f"get-{p.id}") for p in MALFORMED_CODES]
    + [pytest.param(check, p.values[0], id=f"post-{p.id}") for p in MALFORMED_CODES + MALFORMED_PERSONS],
)
def test_malformed_input_is_a_form_error_never_a_500(db, send, params):
    response = send(params)
    assert response.status_code == 400
    assert 'class="field has-error"' in response.content.decode() or 'class="errors"' in response.content.decode()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.VERIFICATION).exists()


def test_a_nul_byte_in_the_qr_code_path_is_a_form_error(db):
    assert verify(path=VERIFY + "ABCD%00EFGH/").status_code == 400
    assert check({"name": "张三", "id_number": "1"}, path=VERIFY + "ABCD%00EFGH/").status_code == 400


def test_a_100000_character_code_in_the_path_is_a_form_error(db):
    response = verify(path=reverse("reports:verify_code", args=["A" * 100_000]))
    assert response.status_code == 400


def test_html_in_the_input_is_escaped(roster):
    script = "<script>alert(1)</script>"
    response = check({"code": roster.verification_code, "name": script, "id_number": script})
    assert response.status_code == 200
    page = response.content.decode()
    assert script not in page
    assert html.escape(script) in page or "&lt;script&gt;" in page
    assert zh("This person is not on this roster.") in page


def test_html_in_the_code_is_escaped_in_the_form_error(db):
    response = verify({"code": '"><img src=x onerror=alert(1)>'})
    assert response.status_code == 400
    assert "<img src=x" not in response.content.decode()
