"""The record list's search: any part of a name or of an ID number, answered from indexes (trainees migration 0007)."""

import pytest
from django.db import connection, transaction
from django.db.models import TextField, Value
from django.urls import reverse

from hbwsrc.search import SearchGrams, SearchKeys
from tests.record_helpers import make_person, make_record
from tests.world import logged_in
from trainees.models import Person, ProbationRecord, search_persons

NAMES = ["王芳", "王芳华", "李王芳", "王华芳", "张伟", "欧阳娜娜", "John SMITH"]


@pytest.fixture
def people(rworld):
    """One passed record at 武昌医院 for each of NAMES, keyed by name."""
    world = rworld.world
    records = {}
    for serial, name in enumerate(NAMES, start=1):
        person = make_person(serial, name=name)
        records[name] = make_record(
            person, world.wuchang_hospital, rworld.year, rworld.clinical, "2025-09-01", "2026-08-31"
        )
    return records


def found(text):
    return sorted(ProbationRecord.objects.search(text).values_list("person__name", flat=True))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("王芳", ["李王芳", "王芳", "王芳华"]),  # a two-character name: not 王华芳, which has both characters apart
        ("王", ["李王芳", "王华芳", "王芳", "王芳华"]),
        ("芳华", ["王芳华"]),
        ("欧阳娜娜", ["欧阳娜娜"]),
        ("阳娜", ["欧阳娜娜"]),
        ("smith", ["John SMITH"]),  # any case
        ("hn s", ["John SMITH"]),
        ("Sm", ["John SMITH"]),
        ("王芳王", []),
        ("赵", []),
        ("%", []),  # LIKE's wildcards are plain characters here
        ("_", []),
    ],
)
def test_a_search_finds_every_name_containing_the_text_and_no_other(people, text, expected):
    assert found(text) == expected


def test_a_search_finds_any_part_of_an_id_number_of_three_characters_or_more(people):
    target = people["张伟"].person
    assert found(target.id_number[-4:]) == ["张伟"]
    assert found(target.id_number[-3:]) == ["张伟"]
    # Typed with full-width digits and spaces, as an ID number is often pasted.
    wide = " ".join(chr(ord(c) + 0xFEE0) for c in target.id_number[-4:])
    assert found(wide) == ["张伟"]
    # The whole number finds only its owner.
    assert found(target.id_number) == ["张伟"]


def test_one_or_two_characters_of_an_id_number_match_no_one(people):
    """Every ID number contains most pairs of digits: such a search would list everyone, from no index."""
    assert found(people["张伟"].person.id_number[-2:]) == []
    assert found("42") == []  # the province prefix of every ID number here


def test_the_record_list_search_box_uses_it(rworld, people):
    client = rworld.world.client_for(rworld.world.wuchang_user)
    response = client.get(reverse("trainees:list"), {"q": "王芳"})
    assert response.status_code == 200
    listed = {row["person__name"] for row in response.context["page"]}
    assert listed == {"王芳", "王芳华", "李王芳"}


def test_search_grams_are_the_characters_and_pairs_upper_cased(people):
    person = people["欧阳娜娜"].person
    grams, empty = (
        Person.objects.filter(pk=person.pk)
        .values_list(
            SearchGrams(Value("欧阳ab", output_field=TextField())), SearchGrams(Value("", output_field=TextField()))
        )
        .get()
    )
    assert sorted(grams) == sorted(["欧", "阳", "A", "B", "欧阳", "阳A", "AB"])
    assert empty == []


@pytest.mark.parametrize(
    "text, keys", [("欧阳ab", ["欧阳", "阳A", "AB"]), ("王芳", ["王芳"]), ("王", ["王"]), ("x", ["X"])]
)
def test_a_searched_text_is_looked_up_by_its_pairs_or_its_one_character(people, text, keys):
    value = Value(text, output_field=TextField())
    assert Person.objects.values_list(SearchKeys(value), flat=True)[0] == keys


def plan(queryset) -> str:
    """EXPLAIN of ``queryset`` with sequential scans and full sorts priced out: on a test's few rows PostgreSQL would
    rather read and sort them all, so this shows which index the query can use, not which one it would pick."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        return queryset.explain()


def test_the_name_search_can_be_answered_from_the_grams_index(people):
    """The query's expression must be the index's own, or PostgreSQL reads every person."""
    persons = Person.objects.filter(pk__in=ProbationRecord.objects.search("王芳").values("person"))
    assert "person_name_grams_idx" in plan(persons)


@pytest.mark.parametrize("withdrawn_too", [False, True])
def test_the_sorts_of_a_region_office_list_can_be_answered_from_indexes(rworld, people, withdrawn_too):
    """With "include withdrawn" ticked as well: partial (active-only) indexes left that list sorting a region."""
    records = ProbationRecord.objects.for_user(rworld.world.region_user)
    records = records if withdrawn_too else records.active()
    assert "record_region_new_idx" in plan(records.order_by("-created_at", "pk").values("pk")[:50])
    assert "person_name_idx" in plan(records.order_by("person__name", "pk").values("pk")[:50])
    assert "record_region_start_idx" in plan(records.order_by("-start_date", "pk").values("pk")[:50])
    assert "record_region_start_idx" in plan(records.order_by("start_date", "pk").values("pk")[:50])


# --- the admin's searches (the provincial office's audit) use the same conditions -------------------------------


def admin_results(client, model, q):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    response = client.get(url, {"q": q})
    assert response.status_code == 200
    return response.context["cl"].result_list


def test_the_admin_finds_trainees_by_part_of_the_name_or_the_whole_id_number(rworld, people, auditor):
    client = logged_in(auditor)
    assert sorted(p.name for p in admin_results(client, Person, "王芳")) == ["李王芳", "王芳", "王芳华"]
    target = people["张伟"].person
    assert [p.name for p in admin_results(client, Person, target.id_number.lower())] == ["张伟"]
    # Only the whole number: the admin shows numbers masked, and must not let a part of one be probed.
    assert list(admin_results(client, Person, target.id_number[-6:])) == []
    # Several words must all match.
    assert [p.name for p in admin_results(client, Person, "欧阳 娜")] == ["欧阳娜娜"]


def test_the_admin_finds_records_by_trainee_or_by_institution(rworld, people, auditor):
    world = rworld.world
    client = logged_in(auditor)
    elsewhere = make_record(
        make_person(99, name="王芳"), world.hongshan_centre, rworld.year, rworld.clinical, "2025-09-01", "2026-08-31"
    )
    by_name = {r.pk for r in admin_results(client, ProbationRecord, "王芳")}
    assert by_name == {people[n].pk for n in ("王芳", "王芳华", "李王芳")} | {elsewhere.pk}
    by_institution = {r.pk for r in admin_results(client, ProbationRecord, world.hongshan_centre.name[:4])}
    assert by_institution == {elsewhere.pk}
    by_uscc = {r.pk for r in admin_results(client, ProbationRecord, world.wuchang_hospital.uscc.lower())}
    assert by_uscc == {record.pk for record in people.values()}
    both = {r.pk for r in admin_results(client, ProbationRecord, f"王芳 {world.hongshan_centre.name[:4]}")}
    assert both == {elsewhere.pk}


def test_the_admin_searches_can_be_answered_from_indexes(people):
    persons = search_persons(Person.objects.order_by(), "王芳", whole_id_number=True)
    explained = plan(persons)
    assert "person_name_grams_idx" in explained and "Seq Scan" not in explained  # the ID number's half too
