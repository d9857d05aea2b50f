"""A probation record carries its institution's region, kept by the database (trainees migrations 0009-0010): a
region office's lists read that region's records from indexes that start with it."""

import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from tests.record_helpers import make_person, make_record
from tests.test_record_search import plan
from trainees.models import ProbationRecord


@pytest.fixture
def hubei_record(rworld):
    return make_record(
        make_person(1, name="王芳"), rworld.world.wuchang_hospital, rworld.year, rworld.clinical, "2025-09-01", None,
        result="in_progress",
    )  # fmt: skip


def index_columns(name: str) -> tuple[list[str], str]:
    """The columns an index holds (keys and included) and its predicate."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT array_agg(a.attname ORDER BY k.n), pg_get_expr(i.indpred, i.indrelid)
               FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               CROSS JOIN unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
               WHERE c.relname = %s GROUP BY i.indpred, i.indrelid""",
            [name],
        )
        columns, predicate = cursor.fetchone()
    return list(columns), predicate


def test_the_database_sets_the_region_of_a_new_record_from_its_institution(rworld, hubei_record):
    assert hubei_record.region_id is None  # the ORM sent none
    hubei_record.refresh_from_db()
    assert hubei_record.region_id == rworld.world.hubei.pk
    copy = ProbationRecord(
        **{f.attname: getattr(hubei_record, f.attname) for f in ProbationRecord._meta.concrete_fields},
    )
    copy.pk = copy.region_id = None
    copy.public_id = uuid.uuid4()
    copy.person = make_person(2, name="李娜")
    copy.institution = rworld.world.hongshan_centre
    [created] = ProbationRecord.objects.bulk_create([copy])
    created = ProbationRecord.objects.get(pk=created.pk)
    assert created.region_id == rworld.world.hubei.pk


def test_a_region_written_by_hand_is_replaced_by_the_institutions(rworld, hubei_record):
    ProbationRecord.objects.filter(pk=hubei_record.pk).update(region=rworld.world.hunan)
    hubei_record.refresh_from_db()
    assert hubei_record.region_id == rworld.world.hubei.pk


def test_an_institution_with_records_cannot_leave_its_region(rworld, hubei_record):
    institution = rworld.world.wuchang_hospital
    institution.office = rworld.world.hunan_office
    with pytest.raises(IntegrityError), transaction.atomic():
        institution.save()
    # Without records it may (the foreign key holds records only).
    lone = rworld.world.provincial_hospital
    lone.office = rworld.world.hunan_office
    lone.save()
    lone.refresh_from_db()
    assert lone.region_id == rworld.world.hunan.pk


def test_a_region_office_lists_its_region_records_and_no_other(rworld, hubei_record):
    world = rworld.world
    person = make_person(3, name="赵敏")
    elsewhere = make_record(
        person, world.hunan_hospital, rworld.hunan_year, rworld.clinical, "2025-09-01", None, result="in_progress"
    )
    for user, expected in ((world.region_user, hubei_record), (world.hunan_user, elsewhere)):
        response = world.client_for(user).get(reverse("trainees:list"))
        assert [row["pk"] for row in response.context["page"]] == [expected.pk]
        # With withdrawn records too, and counted.
        response = world.client_for(user).get(reverse("trainees:list"), {"withdrawn": "on"})
        assert response.context["page"].paginator.count == 1


def test_a_region_office_list_and_its_count_can_be_answered_from_the_region_indexes(rworld, hubei_record):
    records = ProbationRecord.objects.for_user(rworld.world.region_user)
    assert "institutions_institution" not in str(records.query)  # the region, not each record's institution
    assert "record_region_new_idx" in plan(records.active().order_by("-created_at", "pk").values("pk")[:50])
    assert "record_region_new_idx" in plan(records.order_by("-created_at", "pk").values("pk")[:50])
    assert "record_region_start_idx" in plan(records.active().order_by("-start_date", "pk").values("pk")[:50])
    # The count reads one index alone: on a test's few rows PostgreSQL's pick is arbitrary (bench/EXPLAIN.md shows
    # it at scale), so check what the index holds.
    assert index_columns("record_active_region_idx") == (["region_id"], "(withdrawn_at IS NULL)")
    # An office below the region office is scoped by its subtree, as before.
    county = ProbationRecord.objects.for_user(rworld.world.wuchang_user)
    assert "institutions_institution" in str(county.query)


def test_a_region_office_count_filtered_by_year_and_result_can_read_one_index_alone(db):
    """reports migration 0006: the dashboard's covering index carries the region the scope now tests, so a region
    office's list filtered by year, result and sub-office counts from it alone (25.6 ms -> 8.6 ms, province)."""
    columns, predicate = index_columns("reports_dash_record_person_idx")
    assert {"exam_year_id", "institution_id", "result", "region_id"} <= set(columns)
    assert predicate == "(withdrawn_at IS NULL)"


def test_a_region_office_count_of_some_institutions_records_can_read_the_institution_index_alone(db):
    """trainees migration 0012: the records' index by institution carries their region, which a region office's
    scope tests, so its list filtered by institution name counts from the index (36 -> 3.7 ms, province)."""
    columns, predicate = index_columns("record_active_inst_idx")
    assert columns == ["institution_id", "created_at", "id", "person_id", "region_id"]
    assert predicate == "(withdrawn_at IS NULL)"
