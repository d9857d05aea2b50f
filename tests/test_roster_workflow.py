"""The annual roster filing workflow: the state machine, who may act, the filing window, the draft, the frozen
snapshot and its versions, and the office's filing list."""

import datetime
import itertools
import re
import threading
import time
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from accounts import audit
from accounts.models import AuditEvent, User
from institutions.models import Institution
from reports import actions, workflow
from reports.models import VERIFICATION_ALPHABET, FilingReopening, Roster, RosterEntry
from reports.views import compare_versions
from tests.record_helpers import FAILED, IN_PROGRESS, ensure_categories, make_person, make_record
from tests.world import RecordsWorld, World
from trainees.models import ExamYear, ProbationRecord

S = Roster.Status
ALL_STATUSES = list(S)
ALL_ACTIONS = sorted(workflow.INSTITUTION_ACTIONS | workflow.OFFICE_ACTIONS)
CODE_RE = re.compile(rf"[{VERIFICATION_ALPHABET}]{{4}}(-[{VERIFICATION_ALPHABET}]{{4}}){{3}}")


# --- helpers -----------------------------------------------------------------------------------------------------


def passed(rworld, serial, institution=None, **fields) -> ProbationRecord:
    """A passed one-year probation of a new person at ``institution`` (the 武昌 hospital by default)."""
    return make_record(
        make_person(serial, name=fields.pop("name", None)),
        institution or rworld.world.wuchang_hospital,
        rworld.year,
        rworld.clinical,
        "2024-07-01",
        "2025-06-30",
        **fields,
    )


def finalise(rworld, user=None, institution=None) -> Roster:
    world = rworld.world
    year = ExamYear.objects.get(pk=rworld.year.pk)
    return actions.finalise(institution or world.wuchang_hospital, year, acting_user=user or world.staff)


def pdf_ready(roster) -> Roster:
    """Pretend the PDF was rendered (the PDF itself is tested in test_roster_pdf.py)."""
    Roster.objects.filter(pk=roster.pk).update(pdf_state=Roster.PdfState.READY)
    roster.refresh_from_db()
    return roster


def force_status(roster, status) -> Roster:
    Roster.objects.filter(pk=roster.pk).update(
        status=status,
        pdf_state=Roster.PdfState.READY,
        return_reason="退回原因" if status == S.RETURNED else "",
    )
    roster.refresh_from_db()
    return roster


def act(rworld, roster, action, actor=None):
    """Take ``action`` on ``roster`` as ``actor`` (by default the institution's staff or its county office)."""
    world = rworld.world
    if action in workflow.INSTITUTION_ACTIONS:
        actor = actor or world.staff
    else:
        actor = actor or world.wuchang_user
    if action == "cancel":
        return actions.cancel(roster, acting_user=actor)
    if action == "submit":
        return actions.submit(roster, acting_user=actor)
    if action == "accept":
        return actions.accept(roster, acting_user=actor)
    if action == "return":
        return actions.return_roster(roster, reason="第1行证件号码有误", acting_user=actor)
    raise AssertionError(action)


def status_of(roster) -> str:
    return Roster.objects.values_list("status", flat=True).get(pk=roster.pk)


def submitted_roster(rworld, serials=(1,)) -> Roster:
    for serial in serials:
        passed(rworld, serial)
    roster = pdf_ready(finalise(rworld))
    return act(rworld, roster, "submit")


def transition_url(roster, action):
    return reverse("reports:roster_transition", args=[roster.public_id, action])


# --- the state machine -------------------------------------------------------------------------------------------


def test_the_matrix_below_covers_every_action_of_the_state_machine():
    assert {action for _status, action in workflow.TRANSITIONS} == set(ALL_ACTIONS)
    assert {status for status, _action in workflow.TRANSITIONS} <= set(ALL_STATUSES)
    assert not workflow.INSTITUTION_ACTIONS & workflow.OFFICE_ACTIONS


@pytest.mark.parametrize(("status", "action"), list(itertools.product(ALL_STATUSES, ALL_ACTIONS)))
def test_each_action_from_each_status_either_takes_the_listed_transition_or_is_refused(rworld, status, action):
    passed(rworld, 1)
    roster = force_status(finalise(rworld), status)
    target = workflow.TRANSITIONS.get((status, action))
    if target is not None:
        result = act(rworld, roster, action)
        assert result.status == target
        assert status_of(roster) == target
    else:
        with pytest.raises(ValidationError) as refused:
            act(rworld, roster, action)
        assert refused.value.code == "transition"
        assert status_of(roster) == status


def test_a_finalised_roster_can_be_discarded_and_its_records_unlock(rworld):
    record = passed(rworld, 1)
    roster = finalise(rworld)
    assert roster.status == S.FINALISED and record.is_locked
    act(rworld, roster, "cancel")
    assert status_of(roster) == S.CANCELLED
    assert not record.is_locked
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.ROSTER_CANCEL, target_id=str(roster.public_id)).exists()


def test_a_finalised_roster_is_submitted_then_accepted_and_each_step_is_recorded(
    rworld, django_capture_on_commit_callbacks
):
    world = rworld.world
    passed(rworld, 1)
    with django_capture_on_commit_callbacks(execute=True):
        roster = finalise(rworld)
    roster.refresh_from_db()
    assert roster.pdf_state == Roster.PdfState.READY, roster.pdf_error
    act(rworld, roster, "submit")
    roster.refresh_from_db()
    assert roster.status == S.SUBMITTED
    assert roster.submitted_by == world.staff and roster.submitted_at is not None
    act(rworld, roster, "accept")
    roster.refresh_from_db()
    assert roster.status == S.ACCEPTED
    assert roster.decided_by == world.wuchang_user and roster.decided_at >= roster.submitted_at
    kinds = list(
        AuditEvent.objects.filter(target_id=str(roster.public_id)).order_by("pk").values_list("kind", flat=True)
    )
    assert kinds == [AuditEvent.Kind.ROSTER_FINALISE, AuditEvent.Kind.ROSTER_SUBMIT, AuditEvent.Kind.ROSTER_ACCEPT]


def test_a_submitted_roster_is_returned_with_its_reason_and_marked_rows(rworld):
    roster = submitted_roster(rworld, serials=(1, 2, 3))
    actions.return_roster(
        roster, reason="  第2行科室有误  ", flagged_positions=[2], acting_user=rworld.world.wuhan_user
    )
    roster.refresh_from_db()
    assert roster.status == S.RETURNED
    assert roster.return_reason == "第2行科室有误"
    assert list(roster.entries.filter(flagged=True).values_list("position", flat=True)) == [2]


def test_returning_without_a_reason_is_refused(rworld):
    roster = submitted_roster(rworld)
    with pytest.raises(ValidationError) as refused:
        actions.return_roster(roster, reason="   ", acting_user=rworld.world.wuchang_user)
    assert refused.value.code == "reason"
    assert status_of(roster) == S.SUBMITTED


def test_submitting_before_the_pdf_is_rendered_is_refused(rworld):
    passed(rworld, 1)
    roster = finalise(rworld)
    assert roster.pdf_state == Roster.PdfState.QUEUED
    with pytest.raises(ValidationError) as refused:
        act(rworld, roster, "submit")
    assert refused.value.code == "pdf"
    assert status_of(roster) == S.FINALISED


def test_a_second_finalisation_while_one_is_in_play_is_refused(rworld):
    passed(rworld, 1)
    finalise(rworld)
    with pytest.raises(ValidationError) as refused:
        finalise(rworld)
    assert refused.value.code == "open"
    assert Roster.objects.count() == 1


# --- who may act -------------------------------------------------------------------------------------------------

INSTITUTION_OUTSIDERS = [
    "wuchang_user",
    "wuhan_user",
    "region_user",
    "hongshan_master",
    "yichang_master",
    "hunan_master",
]
OFFICE_OUTSIDERS = ["master", "staff", "hongshan_user", "yichang_user", "hunan_user", "hongshan_master"]


@pytest.mark.parametrize("action", sorted(workflow.INSTITUTION_ACTIONS))
@pytest.mark.parametrize("who", INSTITUTION_OUTSIDERS)
def test_institution_actions_are_refused_for_offices_and_other_institutions(rworld, action, who):
    passed(rworld, 1)
    roster = pdf_ready(finalise(rworld))
    with pytest.raises(PermissionDenied):
        act(rworld, roster, action, actor=getattr(rworld.world, who))
    assert status_of(roster) == S.FINALISED


@pytest.mark.parametrize("action", sorted(workflow.OFFICE_ACTIONS))
@pytest.mark.parametrize("who", OFFICE_OUTSIDERS)
def test_office_actions_are_refused_for_the_institution_itself_sibling_offices_and_other_regions(rworld, action, who):
    roster = submitted_roster(rworld)
    with pytest.raises(PermissionDenied):
        act(rworld, roster, action, actor=getattr(rworld.world, who))
    assert status_of(roster) == S.SUBMITTED


@pytest.mark.parametrize("who", ["wuchang_user", "wuhan_user", "region_user"])
def test_the_supervising_office_and_the_offices_above_it_may_accept(rworld, who):
    roster = submitted_roster(rworld)
    act(rworld, roster, "accept", actor=getattr(rworld.world, who))
    assert status_of(roster) == S.ACCEPTED


@pytest.mark.parametrize(
    ("action", "who", "expected"),
    [
        ("submit", "wuchang_user", 403),  # the supervising office sees the roster but cannot submit it
        ("cancel", "wuhan_user", 403),
        ("submit", "hongshan_master", 404),  # another institution does not even see it
        ("cancel", "hunan_master", 404),
    ],
)
def test_institution_actions_through_the_views_answer_403_or_404_to_others(rworld, action, who, expected):
    passed(rworld, 1)
    roster = pdf_ready(finalise(rworld))
    response = rworld.world.client_for(getattr(rworld.world, who)).post(transition_url(roster, action))
    assert response.status_code == expected
    assert status_of(roster) == S.FINALISED


@pytest.mark.parametrize(
    ("action", "who", "expected"),
    [
        ("accept", "master", 403),  # the institution sees its roster but cannot file it itself
        ("accept", "staff", 403),
        ("return", "master", 403),
        ("accept", "hongshan_user", 404),  # a sibling office does not see it
        ("return", "yichang_user", 404),
        ("accept", "hunan_user", 404),  # another region
    ],
)
def test_office_actions_through_the_views_answer_403_or_404_to_others(rworld, action, who, expected):
    roster = submitted_roster(rworld)
    response = rworld.world.client_for(getattr(rworld.world, who)).post(
        transition_url(roster, action), {"reason": "有误"}
    )
    assert response.status_code == expected
    assert status_of(roster) == S.SUBMITTED


def test_the_detail_page_offers_each_side_only_its_own_buttons(rworld):
    world = rworld.world
    roster = submitted_roster(rworld)
    own = world.client_for(world.staff).get(roster.get_absolute_url())
    office = world.client_for(world.wuchang_user).get(roster.get_absolute_url())
    assert own.context["actions"] == set()  # submitted: nothing left for the institution
    assert office.context["actions"] == {"accept", "return"}
    assert transition_url(roster, "accept") in office.content.decode()
    assert transition_url(roster, "accept") not in own.content.decode()


# --- concurrency -------------------------------------------------------------------------------------------------


@pytest.fixture
def tx_rworld(transactional_db) -> RecordsWorld:
    ensure_categories()  # a transactional test's flush empties the table the migration filled
    return RecordsWorld.build(World.build())


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_accept_and_return_of_one_submitted_roster_end_in_exactly_one_outcome(tx_rworld):
    rworld = tx_rworld
    roster = submitted_roster(rworld)
    barrier = threading.Barrier(2)
    outcomes = {}
    original_record = audit.record

    def slow_record(*args, **kwargs):
        # Widen the window between reading the status and committing: without the row lock both would win.
        time.sleep(0.3)
        return original_record(*args, **kwargs)

    def run(name, username, step):
        try:
            actor = User.objects.get(username=username)
            target = Roster.objects.get(pk=roster.pk)
            barrier.wait(timeout=10)
            step(target, actor)
            outcomes[name] = "ok"
        except ValidationError as error:
            outcomes[name] = error.code
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            outcomes[name] = repr(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=("accept", "wuchang", lambda r, u: actions.accept(r, acting_user=u))),
        threading.Thread(
            target=run,
            args=("return", "wuhan", lambda r, u: actions.return_roster(r, reason="有误", acting_user=u)),
        ),
    ]
    with mock.patch.object(audit, "record", slow_record):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert sorted(outcomes.values()) == ["ok", "transition"], outcomes
    winner = next(name for name, outcome in outcomes.items() if outcome == "ok")
    roster.refresh_from_db()
    assert roster.status == {"accept": S.ACCEPTED, "return": S.RETURNED}[winner]
    decisions = AuditEvent.objects.filter(
        target_id=str(roster.public_id), kind__in=[AuditEvent.Kind.ROSTER_ACCEPT, AuditEvent.Kind.ROSTER_RETURN]
    )
    assert decisions.count() == 1


# --- the filing window -------------------------------------------------------------------------------------------


def move_window(rworld, opens_in_days, closes_in_days):
    today = timezone.localdate()
    ExamYear.objects.filter(pk=rworld.year.pk).update(
        filing_opens=today + datetime.timedelta(days=opens_in_days),
        filing_closes=today + datetime.timedelta(days=closes_in_days),
    )


@pytest.mark.parametrize(("opens", "closes"), [(1, 30), (-30, -1)], ids=["not yet open", "closed"])
def test_finalising_outside_the_filing_window_is_refused(rworld, opens, closes):
    passed(rworld, 1)
    move_window(rworld, opens, closes)
    with pytest.raises(ValidationError) as refused:
        finalise(rworld)
    assert refused.value.code == "window"
    assert not Roster.objects.exists()


def test_the_finalise_view_reports_a_closed_window_instead_of_failing(rworld):
    world = rworld.world
    passed(rworld, 1)
    move_window(rworld, -30, -1)
    response = world.client_for(world.staff).post(reverse("reports:roster_finalise"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("reports:roster_home")
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert not response.context["filing_open"]
    assert not Roster.objects.exists()


def test_submitting_after_the_window_closed_is_refused_until_the_supervising_office_reopens_it(rworld):
    world = rworld.world
    passed(rworld, 1)
    roster = pdf_ready(finalise(rworld))
    move_window(rworld, -30, -1)
    with pytest.raises(ValidationError) as refused:
        act(rworld, roster, "submit")
    assert refused.value.code == "window"
    assert status_of(roster) == S.FINALISED

    # A reopening for another institution changes nothing for this one.
    actions.reopen_filing(
        world.hongshan_centre,
        rworld.year,
        until=timezone.localdate(),
        reason="系统故障",
        acting_user=world.hongshan_user,
    )
    with pytest.raises(ValidationError):
        act(rworld, roster, "submit")

    until = timezone.localdate() + datetime.timedelta(days=7)
    response = world.client_for(world.wuchang_user).post(
        reverse("reports:filing_reopen", args=[world.wuchang_hospital.public_id]),
        {"until": until.isoformat(), "reason": "机构负责人出差，延期提交"},
    )
    assert response.status_code == 302
    reopening = FilingReopening.objects.get(institution=world.wuchang_hospital)
    assert reopening.exam_year == rworld.year
    assert reopening.until == until
    assert reopening.granted_by == world.wuchang_user
    assert reopening.reason == "机构负责人出差，延期提交"
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.FILING_REOPEN, target_id=str(world.wuchang_hospital.public_id))
    assert event.actor == world.wuchang_user
    assert event.changes["until"] == str(until)

    act(rworld, roster, "submit")
    assert status_of(roster) == S.SUBMITTED


@pytest.mark.parametrize("who", ["hongshan_user", "yichang_user", "hunan_user", "master"])
def test_only_the_supervising_office_or_one_above_may_reopen_the_window(rworld, who):
    world = rworld.world
    until = timezone.localdate() + datetime.timedelta(days=7)
    with pytest.raises(PermissionDenied):
        actions.reopen_filing(
            world.wuchang_hospital, rworld.year, until=until, reason="x", acting_user=getattr(world, who)
        )
    response = world.client_for(getattr(world, who)).post(
        reverse("reports:filing_reopen", args=[world.wuchang_hospital.public_id]),
        {"until": until.isoformat(), "reason": "x"},
    )
    assert response.status_code in (403, 404)
    assert not FilingReopening.objects.exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.FILING_REOPEN).exists()


def test_a_reopening_with_a_past_deadline_is_refused(rworld):
    world = rworld.world
    with pytest.raises(ValidationError) as refused:
        actions.reopen_filing(
            world.wuchang_hospital,
            rworld.year,
            until=timezone.localdate() - datetime.timedelta(days=1),
            reason="x",
            acting_user=world.wuchang_user,
        )
    assert refused.value.code == "until"


# --- the draft ---------------------------------------------------------------------------------------------------


def test_the_draft_keeps_passed_records_and_fresh_graduates_under_assessment_and_gives_reasons_for_the_rest(rworld):
    world = rworld.world
    good = passed(rworld, 1, name="合格者")
    fresh = make_record(
        make_person(2, name="应届生"),
        world.wuchang_hospital,
        rworld.year,
        rworld.clinical,
        "2025-07-01",
        None,
        IN_PROGRESS,
        is_fresh_graduate=True,
    )
    running = make_record(
        make_person(3, name="考核中"),
        world.wuchang_hospital,
        rworld.year,
        rworld.clinical,
        "2025-07-01",
        None,
        IN_PROGRESS,
    )
    failed = passed(rworld, 4, name="不合格", result=FAILED)
    passed(rworld, 5, name="已撤销", withdrawn=True)
    passed(rworld, 6, world.hongshan_centre, name="别家的")

    qualifying, refused = actions.draft_rows(world.wuchang_hospital, rworld.year)
    assert {r.pk for r in qualifying} == {good.pk, fresh.pk}
    reasons = dict((record.pk, reason) for record, reason in refused)
    assert reasons == {
        failed.pk: gettext("The assessment was failed."),
        running.pk: gettext("Still under assessment, and not a fresh graduate."),
    }

    roster = finalise(rworld)
    entries = {e.name: e for e in roster.entries.all()}
    assert set(entries) == {"合格者", "应届生"}
    assert entries["应届生"].is_fresh_graduate and entries["应届生"].result == IN_PROGRESS
    assert not entries["合格者"].is_fresh_graduate
    assert roster.row_count == 2

    page = world.client_for(world.staff).get(reverse("reports:roster_home"))
    # The page reads the same split as values (reports.views.DRAFT_COLUMNS).
    assert [r["public_id"] for r in page.context["qualifying"]] == [r.public_id for r in qualifying]
    assert {(row["public_id"], reason) for row, reason in page.context["refused"]} == {
        (record.public_id, reason) for record, reason in refused
    }


def test_finalising_with_nothing_qualifying_is_refused(rworld):
    passed(rworld, 1, result=FAILED)
    with pytest.raises(ValidationError) as refused:
        finalise(rworld)
    assert refused.value.code == "empty"


# --- snapshot and versions ---------------------------------------------------------------------------------------


def test_the_snapshot_does_not_change_when_a_record_changes_after_return(rworld, django_capture_on_commit_callbacks):
    world = rworld.world
    record = passed(rworld, 1, name="张三")
    with django_capture_on_commit_callbacks(execute=True):
        first = finalise(rworld)
    first.refresh_from_db()
    pdf_before = first.pdf.read()
    act(rworld, first, "submit")
    act(rworld, first, "return")

    ProbationRecord.objects.filter(pk=record.pk).update(departments="内科、儿科", end_date="2025-06-29")
    record.person.name = "张叁"
    record.person.save()

    first.refresh_from_db()
    entry = first.entries.get()
    assert (entry.name, entry.departments, entry.end_date) == ("张三", "内科、外科", datetime.date(2025, 6, 30))
    with first.pdf.open("rb") as stored:
        assert stored.read() == pdf_before
    second = finalise(rworld)
    entry = second.entries.get()
    assert (entry.name, entry.departments, entry.end_date) == ("张叁", "内科、儿科", datetime.date(2025, 6, 29))
    assert world.wuchang_hospital.rosters.count() == 2


def test_the_institution_header_is_frozen_too(rworld):
    world = rworld.world
    passed(rworld, 1)
    roster = finalise(rworld)
    Institution.objects.filter(pk=world.wuchang_hospital.pk).update(name="武汉市武昌医院（新名）", head_name="赵院长")
    roster.refresh_from_db()
    assert (roster.institution_name, roster.institution_head) == ("武汉市武昌医院", "王院长")
    assert roster.office_name == "武昌区"


def test_each_finalisation_is_a_new_version_with_its_own_unguessable_code(rworld):
    passed(rworld, 1)
    first = finalise(rworld)
    act(rworld, first, "cancel")
    second = pdf_ready(finalise(rworld))
    act(rworld, second, "submit")
    act(rworld, second, "return")
    third = finalise(rworld)
    rosters = list(Roster.objects.order_by("version"))
    assert [r.version for r in rosters] == [1, 2, 3]
    assert [r.pk for r in rosters] == [first.pk, second.pk, third.pk]
    codes = {r.verification_code for r in rosters}
    assert len(codes) == 3
    assert all(CODE_RE.fullmatch(code) for code in codes)
    # Every version and its decision is kept.
    assert [r.status for r in rosters] == [S.CANCELLED, S.RETURNED, S.FINALISED]


def test_versions_are_counted_per_institution(rworld):
    world = rworld.world
    passed(rworld, 1)
    passed(rworld, 2, world.hongshan_centre)
    mine = finalise(rworld)
    theirs = finalise(rworld, user=world.hongshan_master, institution=world.hongshan_centre)
    assert (mine.version, theirs.version) == (1, 1)


# --- comparing versions ------------------------------------------------------------------------------------------


def test_the_difference_between_versions_lists_added_removed_and_changed_rows(rworld):
    world = rworld.world
    kept = passed(rworld, 1, name="甲")
    changed = passed(rworld, 2, name="乙")
    removed = passed(rworld, 3, name="丙")
    first = pdf_ready(finalise(rworld))
    act(rworld, first, "submit")
    act(rworld, first, "return")

    ProbationRecord.objects.filter(pk=changed.pk).update(departments="内科、口腔科")
    ProbationRecord.objects.filter(pk=removed.pk).update(withdrawn_at=timezone.now(), withdrawal_reason="录入错误")
    passed(rworld, 4, name="丁")
    second = pdf_ready(finalise(rworld))

    diff = compare_versions(first, second)
    assert [e.name for e in diff["added"]] == ["丁"]
    assert [e.name for e in diff["removed"]] == ["丙"]
    assert [(e.name, differences) for e, differences in diff["changed"]] == [
        ("乙", [(RosterEntry._meta.get_field("departments").verbose_name, "内科、外科", "内科、口腔科")])
    ]
    assert kept.pk in {e.record_id for e in second.entries.all()}
    assert compare_versions(None, second) == {"added": [], "removed": [], "changed": []}

    act(rworld, second, "submit")
    page = world.client_for(world.wuchang_user).get(second.get_absolute_url())
    assert page.context["previous"] == first
    html = page.content.decode()
    assert "丁" in html and "丙" in html and "内科、外科 → 内科、口腔科" in html


def test_the_comparison_skips_discarded_versions(rworld):
    passed(rworld, 1, name="甲")
    first = pdf_ready(finalise(rworld))
    act(rworld, first, "submit")
    act(rworld, first, "return")
    discarded = finalise(rworld)
    act(rworld, discarded, "cancel")
    third = finalise(rworld)
    page = rworld.world.client_for(rworld.world.staff).get(third.get_absolute_url())
    assert page.context["previous"] == first


# --- the office's filing list ------------------------------------------------------------------------------------


def make_roster(institution, year, status, user, version=1) -> Roster:
    return Roster.objects.create(
        institution=institution,
        exam_year=year,
        version=version,
        status=status,
        institution_name=institution.name,
        office_name=institution.office.name,
        finalised_by=user,
        return_reason="有误" if status == S.RETURNED else "",
    )


@pytest.fixture
def filings(rworld):
    """Institutions beneath 武汉市 in every filing state, and some outside it."""
    world = rworld.world
    year, user = rworld.year, world.region_user
    extra = {
        name: Institution.objects.create(office=office, name=name)
        for name, office in [
            ("已备案医院", world.wuchang),
            ("已退回医院", world.hongshan),
            ("重新提交医院", world.wuchang),
            ("已作废医院", world.hongshan),
            ("退回后作废医院", world.hongshan),
            ("未开始医院", world.wuchang),
        ]
    }
    make_roster(world.wuchang_hospital, year, S.FINALISED, user)
    make_roster(world.hongshan_centre, year, S.SUBMITTED, user)
    make_roster(extra["已备案医院"], year, S.ACCEPTED, user)
    make_roster(extra["已退回医院"], year, S.RETURNED, user)
    make_roster(extra["重新提交医院"], year, S.RETURNED, user, version=1)
    make_roster(extra["重新提交医院"], year, S.SUBMITTED, user, version=2)
    make_roster(extra["已作废医院"], year, S.CANCELLED, user)
    make_roster(extra["退回后作废医院"], year, S.RETURNED, user, version=1)  # its current roster: v2 was discarded
    make_roster(extra["退回后作废医院"], year, S.CANCELLED, user, version=2)
    make_roster(world.yichang_hospital, year, S.SUBMITTED, user)  # outside 武汉市
    make_roster(world.provincial_hospital, year, S.ACCEPTED, user)  # outside 武汉市
    return extra


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (
            "",
            {
                "武汉市武昌医院",
                "洪山街社区卫生服务中心",
                *"已备案医院 已退回医院 重新提交医院 已作废医院 退回后作废医院 未开始医院".split(),
            },
        ),
        ("none", {"已作废医院", "未开始医院"}),
        ("finalised", {"武汉市武昌医院"}),
        ("submitted", {"洪山街社区卫生服务中心", "重新提交医院"}),
        ("accepted", {"已备案医院"}),
        ("returned", {"已退回医院", "退回后作废医院"}),
    ],
)
def test_the_filing_list_filters_the_offices_subtree_by_latest_status(rworld, filings, status, expected):
    response = rworld.world.client_for(rworld.world.wuhan_user).get(reverse("reports:filing_list"), {"status": status})
    assert response.status_code == 200
    assert {i["name"] for i in response.context["page"].object_list} == expected


def test_the_filing_list_shows_the_latest_version_and_links_to_it(rworld, filings):
    response = rworld.world.client_for(rworld.world.wuchang_user).get(reverse("reports:filing_list"))
    rows = {i["name"]: i for i in response.context["page"].object_list}
    assert set(rows) == {"武汉市武昌医院", "重新提交医院", "未开始医院", "已备案医院"}
    assert (rows["重新提交医院"]["filing_status"], rows["重新提交医院"]["roster_version"]) == (S.SUBMITTED, 2)
    latest = Roster.objects.get(institution=filings["重新提交医院"], version=2)
    assert reverse("reports:roster_detail", args=[latest.public_id]) in response.content.decode()
    assert 'class="status status-None"' in response.content.decode()  # the ones with nothing yet


def test_the_filing_list_shows_no_discarded_version_as_current(rworld, filings):
    response = rworld.world.client_for(rworld.world.hongshan_user).get(reverse("reports:filing_list"))
    rows = {i["name"]: i for i in response.context["page"].object_list}
    assert (rows["退回后作废医院"]["filing_status"], rows["退回后作废医院"]["roster_version"]) == (S.RETURNED, 1)
    assert (rows["已作废医院"]["filing_status"], rows["已作废医院"]["roster_id"]) == (None, None)
    assert (rows["已退回医院"]["filing_status"], rows["已退回医院"]["roster_version"]) == (S.RETURNED, 1)


def test_the_filing_list_groups_institutions_by_office_in_tree_order_then_by_name(rworld, filings):
    world = rworld.world
    page = world.client_for(world.region_user).get(reverse("reports:filing_list")).context["page"]
    shown = [Institution.objects.select_related("office").get(public_id=row["public_id"]) for row in page.object_list]
    assert [i.office.name for i in shown] == [row["office__name"] for row in page.object_list]
    offices = [institution.office for institution in shown]
    # Each office once, parents before their sub-offices, every office's institutions together and by name.
    groups = [office for office, _ in itertools.groupby(offices)]
    assert len(groups) == len(set(groups)) == 4  # 湖北考区, 武昌区, 洪山区, 宜昌市 (武汉市 supervises none itself)
    assert [o.path.encode() for o in groups] == sorted(o.path.encode() for o in groups)
    assert groups[0] == world.hubei_office
    for office in groups:
        names = [i.name for i in shown if i.office == office]
        assert names == list(Institution.objects.filter(office=office).order_by("name").values_list("name", flat=True))


def test_the_filing_list_searches_by_name_and_is_refused_to_institutions(rworld, filings):
    world = rworld.world
    response = world.client_for(world.region_user).get(reverse("reports:filing_list"), {"q": "医院", "status": "none"})
    assert {i["name"] for i in response.context["page"].object_list} == {"已作废医院", "未开始医院"}
    everything = world.client_for(world.region_user).get(reverse("reports:filing_list"))
    names = {i["name"] for i in everything.context["page"].object_list}
    assert {"宜昌市第一人民医院", "湖北省人民医院"} <= names and "湖南省人民医院" not in names
    assert world.client_for(world.master).get(reverse("reports:filing_list")).status_code == 403


def test_the_filing_list_costs_the_same_number_of_queries_for_3_and_30_institutions(rworld):
    world = rworld.world
    client = world.client_for(world.wuchang_user)
    statuses = [S.FINALISED, S.SUBMITTED, S.ACCEPTED, S.RETURNED, None]

    def add(count, start):
        for n in range(start, start + count):
            institution = Institution.objects.create(office=world.wuchang, name=f"测试医院{n:03d}", contact_person="李")
            if statuses[n % len(statuses)] is not None:
                make_roster(institution, rworld.year, statuses[n % len(statuses)], world.region_user)

    def measure():
        client.get(reverse("reports:filing_list"))  # warm up the session and content-type caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("reports:filing_list"))
        assert response.status_code == 200
        return len(queries), len(response.context["page"].object_list)

    add(2, 0)  # plus the 武昌 hospital: 3
    small, small_rows = measure()
    add(27, 2)
    large, large_rows = measure()
    assert (small_rows, large_rows) == (3, 30)
    assert small == large, f"{small} queries for 3 institutions, {large} for 30"
