"""hbwsrc.composed: a query composed by the ORM once, then run with each call's values, reads what the ORM reads."""

import uuid

import pytest
from django.db import connection
from django.db.models import Count, F
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditEvent
from hbwsrc.composed import Composed, ComposedPer
from hbwsrc.db import AnyOf
from tests.record_helpers import make_person, make_record
from trainees.models import Eligibility, Person, ProbationRecord


@pytest.fixture
def records(rworld):
    world = rworld.world
    for serial in range(1, 8):
        institution = world.wuchang_hospital if serial % 2 else world.hongshan_centre
        make_record(make_person(serial), institution, rworld.year, rworld.clinical, "2024-07-01", "2025-06-30")
    return list(ProbationRecord.objects.order_by("pk"))


def counted(compose):
    """``compose`` and the number of times it was called."""
    calls = []

    def wrapped(p):
        calls.append(p)
        return compose(p)

    return wrapped, calls


def test_rows_by_ids_are_what_the_orm_reads_for_any_number_of_ids_in_one_query(records):
    columns = ("pk", "public_id", "start_date", "result", "person__name", "institution__name", "eligibility_status")
    rows = Composed(
        lambda p: ProbationRecord.objects.with_eligibility().filter(AnyOf(F("pk"), p.ids)).values(*columns),
        ids=list,
    )
    ids = [record.pk for record in records]
    for chosen in (ids, ids[2:5], ids[-1:], [*ids[:2], 10**12], []):  # an id that names no row reads nothing
        expected = ProbationRecord.objects.with_eligibility().filter(pk__in=chosen).values(*columns)
        with CaptureQueriesContext(connection) as queries:
            read = rows(ids=chosen)
        assert len(queries) == 1
        assert sorted(read, key=lambda row: row["pk"]) == sorted(expected, key=lambda row: row["pk"])
        assert len(read) == len([pk for pk in chosen if pk in ids])


def test_numbers_and_texts_are_bound_on_each_call_and_the_query_composed_once(rworld, records):
    compose, calls = counted(
        lambda p: ProbationRecord.objects.filter(
            person__id_type=p.id_type, person__id_number=p.number, institution_id=p.institution
        ).values("pk", "person__name")
    )
    read = Composed(compose, id_type=str, number=str, institution=int)
    world = rworld.world
    for record in records:
        for institution in (world.wuchang_hospital, world.hongshan_centre):
            person = record.person
            expected = [{"pk": record.pk, "person__name": person.name}] if record.institution == institution else []
            assert read(id_type=person.id_type, number=person.id_number, institution=institution.pk) == expected
    assert read(id_type="passport", number=records[0].person.id_number, institution=world.wuchang_hospital.pk) == []
    assert len(calls) == 1


def test_a_text_is_bound_as_given_even_with_what_sql_would_take_for_a_wildcard_or_a_quote(records):
    read = Composed(lambda p: Person.objects.filter(name=p.name).values("pk"), name=str)
    Person.objects.filter(pk=records[0].person_id).update(name="王'%_")
    assert read(name="王'%_") == [{"pk": records[0].person_id}]
    assert read(name="王%") == []


def test_model_instances_are_read_with_their_own_columns_and_methods(records):
    record = records[0]
    read = Composed(
        lambda p: Eligibility.objects.filter(
            AnyOf(F("category"), p.categories), person_id=p.person, exam_year_id=p.year
        ),
        person=int,
        year=int,
        categories=list,
    )
    [got] = read(person=record.person_id, year=record.exam_year_id, categories=[record.category_id])
    expected = Eligibility.objects.get(
        person=record.person_id, exam_year=record.exam_year_id, category=record.category_id
    )
    assert isinstance(got, Eligibility)
    assert (got.status, got.covered_days, got.first_start, got.reason()) == (
        expected.status,
        expected.covered_days,
        expected.first_start,
        expected.reason(),
    )
    assert read(person=record.person_id, year=record.exam_year_id, categories=[]) == []


def test_columns_are_converted_as_the_orm_converts_them(rworld, records):
    world = rworld.world
    event = AuditEvent.objects.create(kind=AuditEvent.Kind.FULL_ID_VIEW, changes={"result": ["合格", "不合格"]})
    events = Composed(lambda p: AuditEvent.objects.filter(pk=p.pk).values("pk", "changes"), pk=int)
    assert events(pk=event.pk) == [{"pk": event.pk, "changes": {"result": ["合格", "不合格"]}}]
    per_institution = Composed(
        lambda p: (
            ProbationRecord.objects.filter(exam_year_id=p.year)
            .order_by("institution")
            .values("institution")
            .annotate(n=Count("*"))
        ),
        year=int,
    )
    expected = sorted([(world.wuchang_hospital.pk, 4), (world.hongshan_centre.pk, 3)])
    assert per_institution(year=rworld.year.pk) == [{"institution": pk, "n": n} for pk, n in expected]


def test_model_instances_come_with_their_related_rows_and_annotations_by_a_uuid(records):
    read = Composed(
        lambda p: (
            ProbationRecord.objects.select_related("person", "institution__office")
            .with_eligibility()
            .annotate(person_name=F("person__name"))
            .filter(public_id=p.public_id)
        ),
        public_id=uuid.UUID,
    )
    for record in records[:3]:
        expected = ProbationRecord.objects.with_eligibility().get(pk=record.pk)
        with CaptureQueriesContext(connection) as queries:
            [got] = read(public_id=record.public_id)
            related = (got.person.name, got.institution.name, got.institution.office.path)
        assert len(queries) == 1  # the related rows came with it
        assert related == (record.person.name, record.institution.name, record.institution.office.path)
        assert (got.pk, got.start_date, got.eligibility_status) == (
            expected.pk,
            expected.start_date,
            expected.eligibility_status,
        )
        assert got.person_name == record.person.name and not got._state.adding
    assert read(public_id=uuid.uuid4()) == []


def test_a_query_that_can_match_nothing_reads_nothing(records):
    read = Composed(lambda p: Person.objects.none().filter(name=p.name).values("pk"), name=str)
    name = records[0].person.name
    with CaptureQueriesContext(connection) as queries:
        assert read(name=name) == []
    assert len(queries) == 0


def test_composed_per_key_composes_once_per_key_and_keeps_the_last_used(rworld, records):
    calls = []

    def compose(institution, p):
        calls.append(institution)
        return ProbationRecord.objects.filter(institution=institution, pk=p.pk)

    read = ComposedPer(compose, size=1, pk=int)
    world = rworld.world
    first, second = records[0], records[1]  # at the Wuchang hospital, at the Hongshan centre
    for _ in range(2):
        assert read(world.wuchang_hospital.pk, world.wuchang_hospital, pk=first.pk) == [first]
        assert read(world.wuchang_hospital.pk, world.wuchang_hospital, pk=second.pk) == []
    assert calls == [world.wuchang_hospital]
    assert read(world.hongshan_centre.pk, world.hongshan_centre, pk=second.pk) == [second]
    assert read(world.wuchang_hospital.pk, world.wuchang_hospital, pk=first.pk) == [first]  # composed again
    assert calls == [world.wuchang_hospital, world.hongshan_centre, world.wuchang_hospital]


@pytest.mark.parametrize(
    "compose, parameters, message",
    [
        # A lookup that rewrites the value: the SQL would hold the marker's wildcards, not the value.
        (lambda p: Person.objects.filter(name__icontains=p.name).values("pk"), {"name": str}, "changed"),
        # A parameter the query does not use.
        (lambda p: Person.objects.values("pk"), {"name": str}, "does not hold"),
        # More than one query's rows.
        (lambda p: ProbationRecord.objects.prefetch_related("roster_entries").filter(pk=p.pk), {"pk": int}, "one"),
    ],
)
def test_what_cannot_be_bound_as_composed_is_refused_when_first_run(db, compose, parameters, message):
    with pytest.raises(ValueError, match=message):
        Composed(compose, **parameters)(**{name: kind() for name, kind in parameters.items()})


def test_parameters_are_declared_and_given_by_name(db):
    with pytest.raises(TypeError, match="int, str, UUID or list"):
        Composed(lambda p: Person.objects.values("pk"), when=float)(when=1.0)
    with pytest.raises(AttributeError, match="'number'"):
        Composed(lambda p: Person.objects.filter(id_number=p.number).values("pk"), name=str)(name="x")
    read = Composed(lambda p: Person.objects.filter(name=p.name).values("pk"), name=str)
    with pytest.raises(TypeError, match="expected the values of"):
        read(nam="x")
