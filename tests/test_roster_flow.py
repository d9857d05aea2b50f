"""The filing workflow end to end at the HTTP level: finalise, PDF, submit, return, resubmit, accept."""

from django.urls import reverse

from reports.models import Roster
from trainees.models import ProbationRecord


def enter(rworld, client, **overrides):
    response = client.post(reverse("trainees:create"), rworld.record_data(**overrides))
    assert response.status_code == 302, response.context["form"].errors
    return ProbationRecord.objects.get(public_id=response["Location"].split("/")[-2])


def test_finalise_submit_return_and_accept(rworld, django_capture_on_commit_callbacks):
    world = rworld.world
    staff = world.client_for(world.staff)
    record = enter(rworld, staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(reverse("reports:roster_finalise"))
    roster = Roster.objects.get()
    assert response["Location"] == roster.get_absolute_url()
    roster.refresh_from_db()
    assert roster.pdf_state == Roster.PdfState.READY, roster.pdf_error
    assert roster.pdf_pages == 1 and len(roster.pdf_sha256) == 64
    assert record.is_locked
    locked = staff.post(reverse("trainees:edit", args=[record.public_id]), rworld.record_data(remarks="x"))
    assert locked.status_code == 403

    staff.post(reverse("reports:roster_transition", args=[roster.public_id, "submit"]))
    roster.refresh_from_db()
    assert roster.status == Roster.Status.SUBMITTED

    office = world.client_for(world.wuchang_user)
    office.post(
        reverse("reports:roster_transition", args=[roster.public_id, "return"]),
        {"reason": "证件号码有误", "flagged": ["1"]},
    )
    roster.refresh_from_db()
    assert roster.status == Roster.Status.RETURNED
    assert roster.entries.get().flagged
    assert not record.is_locked

    fixed = staff.post(
        reverse("trainees:edit", args=[record.public_id]),
        {**rworld.record_data(), "departments": "内科、外科"},
    )
    assert fixed.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(reverse("reports:roster_finalise"))
    second = Roster.objects.get(version=2)
    staff.post(reverse("reports:roster_transition", args=[second.public_id, "submit"]))
    page = office.get(second.get_absolute_url())
    assert "内科、外科" in page.content.decode()
    office.post(reverse("reports:roster_transition", args=[second.public_id, "accept"]))
    second.refresh_from_db()
    assert second.status == Roster.Status.ACCEPTED
    assert record.is_locked
