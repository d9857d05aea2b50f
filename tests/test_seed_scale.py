"""manage.py seed_scale on a small scale: valid identifiers, every constraint, one account per node, rosters with
their rows, and the refusal to write into a database that holds data."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db.models import Count, F

from accounts.models import User
from hbwsrc import identifiers
from institutions import scale
from institutions.models import Institution, InstitutionUserObjectPermission, Office, OfficeUserObjectPermission, Region
from institutions.scope import INSTITUTION_PERMISSIONS, OFFICE_PERMISSIONS
from reports.models import Roster, RosterEntry
from tests.record_helpers import ensure_categories
from trainees.models import Eligibility, ExamYear, Person, ProbationRecord, ProbationRecordEvent

pytestmark = pytest.mark.django_db(transaction=True)  # COPY, then VACUUM: outside a test transaction


@pytest.fixture
def seeded():
    ensure_categories()
    call_command("seed_scale", regions=2, institutions=60, persons=400, years=2, prefectures=3, counties=6, seed=7)


def test_the_hierarchy_and_one_account_per_node(seeded):
    assert list(Region.objects.values_list("division_code", flat=True)) == ["110000", "420000"]
    assert Office.objects.count() == 2 * (1 + 3 + 6)
    for office in Office.objects.select_related("parent"):
        assert office.path == (office.parent.path if office.parent else "") + f"{office.pk}/"
        assert office.depth == office.path.count("/") - 1
    for institution in Institution.objects.select_related("office"):
        assert institution.path == institution.office.path and institution.region_id == institution.office.region_id
        if institution.uscc:
            identifiers.validate_uscc(institution.uscc)
    assert User.objects.filter(office__isnull=False).count() == Office.objects.count()
    assert User.objects.filter(institution__isnull=False, is_master=True).count() == Institution.objects.count()
    assert OfficeUserObjectPermission.objects.count() == Office.objects.count() * len(OFFICE_PERMISSIONS)
    assert InstitutionUserObjectPermission.objects.count() == Institution.objects.count() * len(INSTITUTION_PERMISSIONS)
    account = User.objects.get(username="o420000")
    assert account.check_password(scale.BENCH_PASSWORD) and account.office.parent_id is None
    assert User.objects.get(username="i4200001").is_master


def test_persons_records_and_rosters_are_valid(seeded):
    assert ExamYear.objects.filter(is_current=True).count() == 2
    persons = Person.objects.all()
    assert persons.count() >= 400
    for person in persons:
        try:
            identifiers.validate_id_number(person.id_type, person.id_number)
        except ValidationError as error:  # pragma: no cover - the message says which
            pytest.fail(f"{person.id_number}: {error}")
        if person.id_type == "resident":
            assert person.sex == identifiers.resident_id_sex(person.id_number)
            assert person.birth_date == identifiers.resident_id_birth_date(person.id_number)
        assert 2 <= len(person.name) <= 4
    records = ProbationRecord.objects.all()
    assert set(records.values_list("result", flat=True)) == {"passed", "failed", "in_progress"}
    assert records.filter(withdrawn_at__isnull=False).exists()
    assert records.values("person").annotate(n=Count("institution", distinct=True)).filter(n__gt=1).exists()
    # Written with triggers off: the region the database would have copied, in both regions.
    assert not records.exclude(region=F("institution__region")).exists()
    assert records.values("region").distinct().count() == 2
    for record in records.filter(institution__uscc="").select_related("institution"):  # pragma: no cover
        pytest.fail(f"a record at {record.institution}, whose profile is incomplete")
    # The history the triggers would have written.
    assert ProbationRecordEvent.objects.count() == records.count()
    statuses = set(Eligibility.objects.values_list("status", flat=True))
    assert {"eligible", "insufficient", "in_progress"} <= statuses
    assert set(Roster.objects.values_list("status", flat=True)) >= {"accepted", "submitted"}
    for roster in Roster.objects.annotate(n=Count("entries")):
        assert roster.row_count == roster.n
    entry = RosterEntry.objects.select_related("record__person").first()
    assert entry.id_number == entry.record.person.id_number


def test_a_database_with_data_is_refused_without_force(seeded):
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_scale", regions=1, institutions=10, persons=20, years=1, prefectures=1, counties=1)
    call_command("seed_scale", regions=1, institutions=10, persons=20, years=1, prefectures=1, counties=1, force=True)
    assert Region.objects.count() == 1 and Institution.objects.count() == 10
    assert Person.objects.count() == 20
