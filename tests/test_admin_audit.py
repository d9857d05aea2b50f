"""The admin site as an auditor's read-only window: who gets in, what an auditor sees (his region, all of it, and
nothing else), that nobody changes data there, and what superusers may still configure."""

import datetime

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.base import ContentFile
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, User
from hbwsrc.admin import site
from institutions.models import Institution
from institutions.scope import MANAGE_OFFICE, VIEW_OFFICE, forget_scope, scope_for
from reports.models import Roster, RosterEntry
from tests.record_helpers import make_person, make_record
from tests.world import PASSWORD, logged_in, make_account
from trainees.models import ExamCategory, ExamYear, OverlapAttempt, Person, ProbationRecord


@pytest.fixture
def data(rworld):
    """Records, a person, a roster with its PDF and scan, an overlap attempt and audit events in both regions."""
    world = rworld.world
    hubei_person = make_person(1, name="鄂学员")
    hunan_person = make_person(2, name="湘学员")
    record = make_record(hubei_person, world.wuchang_hospital, rworld.year, rworld.clinical, "2025-07-01", "2026-06-30")
    hunan_record = make_record(
        hunan_person, world.hunan_hospital, rworld.hunan_year, rworld.clinical, "2025-07-01", "2026-06-30"
    )
    roster = Roster.objects.create(
        institution=world.wuchang_hospital,
        exam_year=rworld.year,
        version=1,
        status=Roster.Status.SUBMITTED,
        institution_name=world.wuchang_hospital.name,
        office_name=world.wuchang.name,
        finalised_by=world.master,
        pdf_state=Roster.PdfState.READY,
    )
    roster.pdf.save("roster.pdf", ContentFile(b"%PDF-1.4 hubei roster %%EOF"), save=False)
    roster.scan.save("scan.pdf", ContentFile(b"%PDF-1.4 stamped scan %%EOF"), save=False)
    roster.scan_content_type = "application/pdf"
    roster.save()
    RosterEntry.objects.create(
        roster=roster, position=1, record=record, name="鄂学员", sex="M", id_type="resident",
        id_number=hubei_person.id_number, category="临床", departments="内科", start_date=record.start_date,
        end_date=record.end_date, result="passed",
    )  # fmt: skip
    hunan_roster = Roster.objects.create(
        institution=world.hunan_hospital,
        exam_year=rworld.hunan_year,
        version=1,
        institution_name=world.hunan_hospital.name,
        office_name=world.hunan_office.name,
        finalised_by=world.hunan_master,
    )
    hunan_roster.pdf.save("hunan.pdf", ContentFile(b"%PDF-1.4 hunan %%EOF"), save=True)
    OverlapAttempt.objects.create(
        person=hubei_person, id_type="resident", id_number=hubei_person.id_number, attempted_by=world.staff,
        institution=world.wuchang_hospital, start_date=record.start_date, conflicting_record=record,
    )  # fmt: skip
    AuditEvent.objects.create(kind=AuditEvent.Kind.LOGIN, actor=world.hunan_user, actor_username="hunan",
                              region=world.hunan, target_label="湘考区登录")  # fmt: skip
    AuditEvent.objects.create(kind=AuditEvent.Kind.LOGIN, actor=world.wuhan_user, actor_username="wuhan",
                              region=world.hubei, target_label="鄂考区登录")  # fmt: skip
    return {"record": record, "hunan_record": hunan_record, "roster": roster, "hunan_roster": hunan_roster,
            "person": hubei_person, "hunan_person": hunan_person}  # fmt: skip


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def history(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_history", args=[obj.pk])


# --- who gets in --------------------------------------------------------------------------------------------------


def refused(client, url) -> bool:
    """Sent to the admin's login page, which tells a logged-in account it is not allowed, and shows no data."""
    response = client.get(url, follow=True)
    last = response.redirect_chain[-1][0] if response.redirect_chain else url
    templates = {template.name for template in response.templates}
    return last.startswith(reverse("admin:login")) and templates & {"admin/login.html"} and "cl" not in response.context


def test_office_and_institution_accounts_get_no_admin_access(world):
    staff_prefecture = make_account("wuhan_staff", world.wuhan, is_staff=True)  # staff, but not a region office
    for user in (world.region_user, world.wuhan_user, world.wuchang_user, world.master, world.staff, staff_prefecture):
        client = logged_in(user)
        assert refused(client, reverse("admin:index")), user.username
        assert refused(client, changelist(Institution)), user.username
        assert refused(client, change(world.wuchang_hospital)), user.username


def test_anonymous_visitors_get_the_admin_login_form_and_nothing_else(world):
    assert refused(Client(), reverse("admin:index"))
    assert refused(Client(), change(world.wuchang_hospital))


def test_an_office_account_cannot_log_in_through_the_admin_login_form(world):
    client = Client()
    client.post(reverse("admin:login"), {"username": "hubei", "password": PASSWORD})
    assert "_auth_user_id" not in client.session


def test_a_region_office_staff_account_without_view_permission_is_refused(world):
    stripped = make_account("hubei_nothing", world.hubei_office, perms=(), is_staff=True)
    assert refused(logged_in(stripped), reverse("admin:index"))


def test_auditor_who_has_not_passed_the_second_factor_does_not_reach_the_admin(auditor):
    client = Client()
    client.force_login(auditor)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "two-factor" in response["Location"]


# --- what an auditor reads ----------------------------------------------------------------------------------------


MODELS_AND_NAMES = [
    (Institution, "武汉市武昌医院", "湖南省人民医院"),
    (Person, "鄂学员", "湘学员"),
    (ProbationRecord, "鄂学员", "湘学员"),
    (Roster, "武汉市武昌医院", "湖南省人民医院"),
    (User, "wcyy_staff", "hnyy"),
    (AuditEvent, "鄂考区登录", "湘考区登录"),
]


@pytest.mark.parametrize(("model", "ours", "theirs"), MODELS_AND_NAMES)
def test_auditor_reads_his_regions_lists_and_not_another_regions(data, auditor, model, ours, theirs):
    page = logged_in(auditor).get(changelist(model)).content.decode()
    assert ours in page
    assert theirs not in page


def test_auditor_opens_every_list_of_the_admin(data, auditor):
    client = logged_in(auditor)
    index = client.get(reverse("admin:index")).content.decode()
    for model in site._registry:
        url = changelist(model)
        assert url in index, model
        assert client.get(url).status_code == 200, model


def test_auditor_opens_view_pages_and_histories_of_his_regions_objects(data, auditor, rworld):
    world = rworld.world
    client = logged_in(auditor)
    objects = [world.wuchang_hospital, world.wuhan, data["person"], data["record"], data["roster"], world.master]
    objects += [rworld.year, rworld.clinical, world.hubei]
    for obj in objects:
        response = client.get(change(obj))
        assert response.status_code == 200, obj
        assert 'name="_save"' not in response.content.decode(), obj
        assert client.get(history(obj)).status_code == 200, obj


def test_auditor_cannot_open_another_regions_objects(data, auditor, rworld):
    world = rworld.world
    client = logged_in(auditor)
    others = [world.hunan_hospital, world.hunan_office, data["hunan_person"], data["hunan_record"]]
    others += [data["hunan_roster"], world.hunan_master, rworld.hunan_year, world.hunan]
    for obj in others:
        response = client.get(change(obj))
        assert response.status_code == 302 and response["Location"] == reverse("admin:index"), obj
        assert client.get(history(obj)).status_code == 302, obj
    pdf = reverse("admin:reports_roster_pdf", args=[data["hunan_roster"].pk])
    assert client.get(pdf).status_code == 404


def test_auditor_searches_and_filters_as_the_issue_asks(data, auditor, rworld):
    world = rworld.world
    client = logged_in(auditor)
    by_uscc = client.get(changelist(Institution), {"q": world.wuchang_hospital.uscc}).context["cl"].result_list
    assert list(by_uscc) == [world.wuchang_hospital]
    by_id = client.get(changelist(Person), {"q": data["person"].id_number}).context["cl"].result_list
    assert list(by_id) == [data["person"]]
    by_username = client.get(changelist(User), {"q": "wcyy_staff"}).context["cl"].result_list
    assert list(by_username) == [world.staff]
    by_office = client.get(changelist(Institution), {"office": str(world.wuhan.public_id)}).context["cl"].result_list
    assert set(by_office) == {world.wuchang_hospital, world.hongshan_centre}
    by_year = client.get(changelist(ProbationRecord), {"exam_year": str(rworld.year.pk), "result": "passed"})
    assert list(by_year.context["cl"].result_list) == [data["record"]]
    hunan_year = client.get(changelist(ProbationRecord), {"exam_year": str(rworld.hunan_year.pk)})
    assert list(hunan_year.context["cl"].result_list) == []
    by_status = client.get(changelist(Roster), {"status__exact": "submitted"}).context["cl"].result_list
    assert list(by_status) == [data["roster"]]
    Institution.objects.filter(pk=world.yichang_hospital.pk).update(category="C")
    by_category = client.get(changelist(Institution), {"category__exact": "C"}).context["cl"].result_list
    assert list(by_category) == [world.yichang_hospital]
    today = datetime.date.today()
    dated = client.get(changelist(ProbationRecord), {"created_at__year": today.year, "created_at__month": today.month})
    assert data["record"] in dated.context["cl"].result_list
    filters = client.get(changelist(ProbationRecord)).content.decode()
    assert "湖南考区" not in filters  # the office filter names only the auditor's region's offices


def test_id_numbers_are_masked_in_the_admin(data, auditor):
    client = logged_in(auditor)
    number = data["person"].id_number
    for url in (changelist(Person), change(data["person"]), change(data["roster"]), changelist(ProbationRecord)):
        page = client.get(url).content.decode()
        assert number not in page, url
        assert number[:6] in page, url


def test_auditor_downloads_the_rosters_pdf_and_stamped_scan(data, auditor):
    client = logged_in(auditor)
    roster = data["roster"]
    page = client.get(change(roster)).content.decode()
    pdf_url = reverse("admin:reports_roster_pdf", args=[roster.pk])
    scan_url = reverse("admin:reports_roster_scan", args=[roster.pk])
    assert pdf_url in page and scan_url in page
    assert b"".join(client.get(pdf_url).streaming_content).startswith(b"%PDF-1.4 hubei roster")
    assert b"".join(client.get(scan_url).streaming_content).startswith(b"%PDF-1.4 stamped scan")


# --- nobody changes data here -------------------------------------------------------------------------------------


def test_auditor_changes_nothing(data, auditor, rworld):
    world = rworld.world
    client = logged_in(auditor)
    for obj in (world.wuchang_hospital, data["person"], data["record"], data["roster"], world.master, rworld.year):
        assert client.post(change(obj), {"name": "改名"}).status_code == 403, obj
        delete = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_delete", args=[obj.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403, obj
    for model in site._registry:
        add = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
        assert client.get(add).status_code == 403, model
    assert "action-toggle" not in client.get(changelist(Institution)).content.decode()
    world.wuchang_hospital.refresh_from_db()
    assert world.wuchang_hospital.name == "武汉市武昌医院"
    assert Institution.objects.filter(pk=world.wuchang_hospital.pk).exists()


def test_superuser_configures_exam_years_and_the_admin_log_keeps_old_and_new_values(rworld, superuser):
    client = logged_in(superuser)
    year = rworld.year
    before = year.filing_closes
    data = {
        "region": year.region_id, "year": year.year, "cutoff": year.cutoff, "entry_opens": year.entry_opens,
        "entry_closes": year.entry_closes, "filing_opens": year.filing_opens,
        "filing_closes": year.filing_closes + datetime.timedelta(days=5), "is_current": "on",
    }  # fmt: skip
    response = client.post(change(year), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    year.refresh_from_db()
    assert year.filing_closes == before + datetime.timedelta(days=5)
    entry = LogEntry.objects.get(object_id=str(year.pk))
    assert entry.user == superuser
    assert f"{before} → {year.filing_closes}" in entry.get_change_message()
    assert str(year.filing_closes) in entry.get_change_message()
    assert str(year.filing_closes) in client.get(history(year)).content.decode()


def test_superuser_switches_exam_categories_off(rworld, superuser):
    client = logged_in(superuser)
    category = ExamCategory.objects.get(code="143")
    data = {"code": "143", "name": category.name, "level": category.level, "category_class": category.category_class}
    assert client.post(change(category), data).status_code == 302
    category.refresh_from_db()
    assert not category.is_active


def test_superusers_cannot_change_records_persons_institutions_or_audit_rows_either(data, superuser, rworld):
    client = logged_in(superuser)
    event = AuditEvent.objects.first()
    for obj in (data["record"], data["person"], rworld.world.wuchang_hospital, data["roster"], event):
        page = client.get(change(obj)).content.decode()
        assert 'name="_save"' not in page, obj
        assert client.post(change(obj), {"name": "x"}).status_code == 403, obj
        delete = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_delete", args=[obj.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403, obj


def test_a_locked_record_cannot_be_changed_in_the_admin_by_anyone_and_no_revert_is_offered(data, superuser, auditor):
    record = data["record"]  # on a submitted roster: locked
    assert record.is_locked
    for user in (superuser, auditor):
        client = logged_in(user)
        assert client.post(change(record), {"departments": "改"}).status_code == 403
        page = client.get(history(record)).content.decode().lower()
        assert "revert" not in page and "恢复" not in page
    record.refresh_from_db()
    assert record.departments == "内科、外科"
    with pytest.raises(DatabaseError), transaction.atomic():
        ProbationRecord.objects.filter(pk=record.pk).update(departments="改")
    assert not any(hasattr(model, "pgh_tracked_model") for model in site._registry)  # no pghistory event admin


def test_history_page_shows_who_changed_a_record_from_what_to_what(rworld, auditor):
    world = rworld.world
    staff = logged_in(world.staff)
    assert staff.post(reverse("trainees:create"), rworld.record_data()).status_code == 302
    record = ProbationRecord.objects.get()
    changed = rworld.record_data(departments="内科、外科、急诊科")
    response = staff.post(reverse("trainees:edit", args=[record.public_id]), changed)
    assert response.status_code == 302, response.context and response.context["form"].errors
    page = logged_in(auditor).get(history(record)).content.decode()
    row = next(line for line in page.split("<tr>") if "内科、外科、急诊科" in line)
    assert "wcyy_staff" in row
    assert "<td>内科、外科、儿科</td><td>内科、外科、急诊科</td>" in row


def test_superuser_issues_a_region_office_auditor_account(world, superuser):
    client = logged_in(superuser)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {"username": "hubei_audit2", "full_name": "审计员", "phone": "", "office": world.hubei_office.pk,
         "role": "auditor", "password1": "Audit-Only-Pass-2026"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    account = User.objects.get(username="hubei_audit2")
    assert account.is_staff and account.must_change_password and account.issued_by == superuser
    forget_scope(account)
    scope = scope_for(account)
    assert scope.has_office_perm(VIEW_OFFICE, world.hubei_office)
    assert not scope.has_office_perm(MANAGE_OFFICE, world.hubei_office)
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ACCOUNT_ISSUE, target_id=str(account.public_id))
    assert event.actor == superuser and event.changes["auditor"] is True


def test_only_region_offices_are_offered_for_new_admin_accounts(world, superuser):
    form = logged_in(superuser).get(reverse("admin:accounts_user_add")).context["adminform"].form
    assert set(form.fields["office"].queryset) == {world.hubei_office, world.hunan_office}


def test_exam_year_list_shows_only_the_auditors_region(rworld, auditor):
    page = logged_in(auditor).get(changelist(ExamYear))
    assert list(page.context["cl"].result_list) == [rworld.year]
