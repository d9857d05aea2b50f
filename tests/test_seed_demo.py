"""The demo data (`make demo`): one account per role, an auditor among them, loaded twice without harm."""

from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from hbwsrc.admin import is_auditor
from tests.world import logged_in
from trainees.models import ProbationRecord


def test_seed_demo_is_idempotent_and_gives_each_role_its_access(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    counts = (User.objects.count(), ProbationRecord.objects.count())
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert (User.objects.count(), ProbationRecord.objects.count()) == counts

    auditor = User.objects.get(username="hubei_audit")
    assert is_auditor(auditor)
    client = logged_in(auditor)
    record = ProbationRecord.objects.first()
    assert client.get(reverse("admin:index")).status_code == 200
    change_url = reverse("admin:trainees_probationrecord_change", args=[record.pk])
    page = client.get(change_url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()  # read-only: nothing to save
    assert client.post(change_url, {"remarks": "changed"}).status_code == 403

    office = User.objects.get(username="hubei")
    assert not is_auditor(office)
    assert logged_in(office).get(reverse("admin:index")).status_code == 302  # sent to the admin's login
