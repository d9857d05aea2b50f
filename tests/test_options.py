"""The exam years', categories' and offices' options kept in the cache (trainees.options): read once, dropped on
every change, labelled in the request's language, and trusted to check only a list filter's choice, never a record's."""

import re

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from institutions import actions as institution_actions
from institutions.models import Office
from tests.record_helpers import exam_year
from trainees import options
from trainees.models import ExamCategory, ProbationRecord

RECORDS = reverse("trainees:list")
NEW_RECORD = reverse("trainees:create")


def select(page, name: str) -> dict[str, str]:
    """{value: label} of the options of the select ``name`` in ``page``."""
    markup = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page.content.decode(), re.S).group(1)
    return dict(re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', markup))


def reads_of(queries, table: str) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if f'FROM "{table}"' in q["sql"]]


def test_a_record_list_reads_the_years_and_categories_once_then_from_the_cache(rworld):
    client = rworld.world.client_for(rworld.world.region_user)

    with CaptureQueriesContext(connection) as first:
        client.get(RECORDS)
    with CaptureQueriesContext(connection) as second:
        page = client.get(RECORDS)

    assert reads_of(first, "trainees_examyear") and reads_of(first, "trainees_examcategory")
    assert reads_of(second, "trainees_examyear") == reads_of(second, "trainees_examcategory") == []
    assert select(page, "exam_year") == {"": "---------", str(rworld.year.pk): f"{rworld.year.year}年度考试"}
    categories = select(page, "category")
    assert categories[str(rworld.clinical.pk)] == str(rworld.clinical)
    assert len(categories) == ExamCategory.objects.count() + 1


def test_a_renamed_category_and_a_new_exam_year_show_on_the_next_page(rworld):
    client = rworld.world.client_for(rworld.world.region_user)
    client.get(RECORDS)

    rworld.clinical.name = "临床（更正）"
    rworld.clinical.save()
    next_year = exam_year(rworld.world.hubei, rworld.year.year + 1)
    page = client.get(RECORDS)

    assert select(page, "category")[str(rworld.clinical.pk)] == f"{rworld.clinical.code} 临床（更正）"
    years = select(page, "exam_year")
    assert years[str(next_year.pk)] == f"{next_year.year}年度考试"
    assert str(rworld.hunan_year.pk) not in years  # another region's year: not this account's


def test_an_institution_is_offered_its_regions_current_year_and_the_active_categories(rworld):
    client = rworld.world.client_for(rworld.world.master)
    exam_year(rworld.world.hubei, rworld.year.year + 1)  # not current
    rworld.dental.is_active = False
    rworld.dental.save()

    page = client.get(NEW_RECORD)

    assert select(page, "exam_year") == {"": "---------", str(rworld.year.pk): f"{rworld.year.year}年度考试"}
    categories = select(page, "category")
    assert str(rworld.clinical.pk) in categories and str(rworld.dental.pk) not in categories
    assert "当前没有开放录入的考试年度" not in page.content.decode()


def test_the_record_form_says_so_when_no_year_is_open(rworld):
    client = rworld.world.client_for(rworld.world.master)
    client.get(NEW_RECORD)

    rworld.year.is_current = False
    rworld.year.save()
    page = client.get(NEW_RECORD)

    assert select(page, "exam_year") == {"": "---------"}
    assert "当前没有开放录入的考试年度。录入时间由考区考试管理机构设定。" in page.content.decode()


def test_the_labels_are_made_in_the_requests_language_from_the_kept_years(rworld):
    hubei = {rworld.world.hubei.pk}
    with translation.override("en"):
        english = options.exam_year_options(hubei)
    with translation.override("zh-hans"):
        chinese = options.exam_year_options(hubei)

    assert english == [(rworld.year.pk, f"{rworld.year.year} exam")]
    assert chinese == [(rworld.year.pk, f"{rworld.year.year}年度考试")]


def test_a_submitted_choice_is_checked_in_the_database_not_against_the_kept_options(rworld):
    client = rworld.world.client_for(rworld.world.master)
    client.get(NEW_RECORD)
    # Changed without a signal (as SQL run by hand would): the kept options still offer the category.
    ExamCategory.objects.filter(pk=rworld.dental.pk).update(is_active=False)
    assert str(rworld.dental.pk) in select(client.get(NEW_RECORD), "category")

    response = client.post(NEW_RECORD, rworld.record_data(category=rworld.dental.pk))

    assert response.status_code == 200
    assert "category" in response.context["form"].errors
    assert not ProbationRecord.objects.exists()


def test_a_change_drops_the_kept_options_again_once_committed(rworld, django_capture_on_commit_callbacks):
    options.category_options()
    with django_capture_on_commit_callbacks() as callbacks:
        rworld.dental.save()
        assert cache.get(options.CATEGORIES_KEY) is None
        options.category_options()  # another request, between the change and its commit
        assert cache.get(options.CATEGORIES_KEY) is not None

    for callback in callbacks:
        callback()

    assert cache.get(options.CATEGORIES_KEY) is None


def test_deleting_a_year_drops_the_kept_years(rworld):
    next_year = exam_year(rworld.world.hubei, rworld.year.year + 1)
    assert (next_year.pk, f"{next_year.year}年度考试") in options.exam_year_options({rworld.world.hubei.pk})

    next_year.delete()

    assert options.exam_year_options({rworld.world.hubei.pk}) == [(rworld.year.pk, f"{rworld.year.year}年度考试")]


def test_an_offices_record_list_reads_its_sub_offices_once_then_from_the_cache(rworld):
    world = rworld.world
    client = world.client_for(world.wuhan_user)

    with CaptureQueriesContext(connection) as first:
        client.get(RECORDS)
    with CaptureQueriesContext(connection) as second:
        page = client.get(RECORDS)

    assert reads_of(first, "institutions_office") and not reads_of(second, "institutions_office")
    in_tree_order = Office.objects.filter(path__subtree=world.wuhan.path).order_by("path")
    assert list(select(page, "office").items()) == [("", "---------")] + [
        (str(office.pk), office.name) for office in in_tree_order
    ]


def test_a_new_or_renamed_office_shows_on_the_next_page_and_another_regions_never(rworld):
    world = rworld.world
    client = world.client_for(world.region_user)
    client.get(RECORDS)

    site = institution_actions.create_office(
        world.wuchang, acting_user=world.wuhan_user, name="武昌考点", kind="exam_site"
    )
    institution_actions.update_office(world.yichang, acting_user=world.region_user, name="宜昌市（更名）")
    offered = select(client.get(RECORDS), "office")

    assert offered[str(site.pk)] == "武昌考点"
    assert offered[str(world.yichang.pk)] == "宜昌市（更名）"
    assert str(world.hunan_office.pk) not in offered
    assert cache.get(options.OFFICES_KEY.format(region=world.hunan.pk)) is None  # no other region's offices read


def test_offered_options_are_set_as_they_are_and_show_the_chosen_one():
    from trainees.forms import RecordFilterForm

    field = RecordFilterForm().fields["exam_year"]
    pairs = [(7, "2026年"), (5, "2025年")]
    options.offer(field, pairs)

    assert field.widget.choices is field.choices  # not normalised again, pair by pair, into a copy
    assert list(field.choices) == [("", "---------"), *pairs]
    markup = field.widget.render("exam_year", 5)
    assert '<option value="5" selected>2025年</option>' in markup and '<option value="7">2026年</option>' in markup


def _listed_ids(response) -> set[int]:
    assert response.status_code == 200
    return {row["pk"] for row in response.context["page"].object_list}


def test_the_record_lists_filters_are_checked_against_the_offered_options_without_a_query(spread):
    world = spread.world
    client = world.client_for(world.region_user)
    client.get(RECORDS)  # the options kept
    chosen = {"exam_year": spread.year.pk, "category": spread.clinical.pk, "office": world.wuhan.pk, "result": ""}

    with CaptureQueriesContext(connection) as queries:
        response = client.get(RECORDS, chosen)

    assert response.context["form"].is_valid()
    expected = ProbationRecord.objects.filter(institution__path__startswith=world.wuhan.path, exam_year=spread.year)
    assert _listed_ids(response) == set(expected.values_list("pk", flat=True)) and expected.count() == 5
    for table in ("trainees_examyear", "trainees_examcategory", "institutions_office"):
        assert not reads_of(queries, table), table


def test_a_filter_choice_the_account_is_not_offered_is_refused_and_narrows_nothing(spread):
    world = spread.world
    client = world.client_for(world.wuhan_user)
    everything = _listed_ids(client.get(RECORDS))
    for field, value in (
        ("office", world.yichang.pk),  # another prefecture
        ("office", world.hubei_office.pk),  # the office above the account's
        ("office", world.hunan_office.pk),  # another region
        ("exam_year", spread.hunan_year.pk),
        ("category", 999_999),
        ("office", "武汉"),
    ):
        with translation.override("zh-hans"):
            response = client.get(RECORDS, {field: value}, headers={"accept-language": "zh-hans"})
        assert field in response.context["form"].errors, (field, value)
        assert "部分筛选条件无法识别，已忽略。" in response.content.decode(), (field, value)
        assert _listed_ids(response) == everything, (field, value)
