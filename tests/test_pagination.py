"""Long lists count at most settings.LIST_COUNT_CAP rows and then say "more than"."""

from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from hbwsrc.pagination import CappedPaginator, CountedRows, rows_as_values
from institutions.models import Institution
from tests.record_helpers import make_person, make_record
from trainees.models import ProbationRecord


def test_capped_paginator_counts_up_to_the_cap(world):
    users = User.objects.order_by("pk")
    total = users.count()
    assert total > 4
    capped = CappedPaginator(users, 2, cap=3)
    assert (capped.count, capped.capped, capped.num_pages) == (3, True, 2)
    assert [user.pk for user in capped.page(2)] == [users[2].pk]
    exact = CappedPaginator(users, 2, cap=total)
    assert (exact.count, exact.capped) == (total, False)


def test_rows_as_values_reads_a_pages_rows_as_dicts_and_counts_without_their_joins(world):
    institutions = Institution.objects.order_by("name", "pk")
    with CaptureQueriesContext(connection) as queries:
        page = rows_as_values(Paginator(institutions, 2).get_page(2), "name", "office__name")
        rows = list(page.object_list)
    count_sql, rows_sql = (query["sql"] for query in queries.captured_queries)
    assert "COUNT(" in count_sql and "JOIN" not in count_sql
    assert "JOIN" in rows_sql and "OFFSET 2" in rows_sql
    assert rows == [{"name": i.name, "office__name": i.office.name} for i in institutions.select_related("office")[2:4]]
    assert page.paginator.count == Institution.objects.count()


def _records(rworld, count):
    world = rworld.world
    for serial in range(1, count + 1):
        make_record(
            make_person(serial), world.wuchang_hospital, rworld.year, rworld.clinical, "2024-07-01", "2025-06-30"
        )


def test_record_list_past_the_cap_says_more_than_and_pages_to_it(rworld, settings):
    settings.LIST_COUNT_CAP = 60
    _records(rworld, 61)
    client = rworld.world.client_for(rworld.world.wuhan_user)
    with translation.override("zh-hans"):
        first = client.get(reverse("trainees:list"), HTTP_ACCEPT_LANGUAGE="zh-hans")
        last = client.get(reverse("trainees:list") + "?page=99", HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = first.content.decode()
    assert first.context["page"].paginator.capped
    assert "超过 60 条" in text
    assert last.context["page"].number == 2
    assert len(last.context["page"].object_list) == 10


def test_record_list_under_the_cap_gives_the_exact_count(rworld, settings):
    settings.LIST_COUNT_CAP = 60
    _records(rworld, 60)
    response = rworld.world.client_for(rworld.world.wuhan_user).get(reverse("trainees:list"))
    page = response.context["page"]
    assert (page.paginator.count, page.paginator.capped, page.paginator.num_pages) == (60, False, 2)


def _pages_of_users(number, cap=10_000):
    """The page ``number`` of all accounts two a page, with the queries that read it and its count."""
    with CaptureQueriesContext(connection) as queries:
        page = CappedPaginator(User.objects.order_by("pk"), 2, cap=cap).get_page(number)
        shown = [user.pk for user in page]
        figures = (page.paginator.count, page.paginator.num_pages, page.paginator.capped)
    return page, shown, figures, [query["sql"] for query in queries.captured_queries]


def test_a_page_that_ends_the_list_gives_the_count_without_counting(world):
    pks = list(User.objects.order_by("pk").values_list("pk", flat=True))
    last = (len(pks) + 1) // 2
    page, shown, figures, sql = _pages_of_users(last)
    assert shown == pks[(last - 1) * 2 :]
    assert figures == (len(pks), last, False)
    assert len(sql) == 1 and "COUNT(" not in sql[0] and "LIMIT 3" in sql[0]
    assert not page.has_next() and page.has_previous()


def test_a_page_with_more_after_it_counts_once_when_asked(world):
    pks = list(User.objects.order_by("pk").values_list("pk", flat=True))
    assert len(pks) > 4
    page, shown, figures, sql = _pages_of_users(2)
    assert shown == pks[2:4]
    assert figures == (len(pks), (len(pks) + 1) // 2, False)
    assert len(sql) == 2 and "COUNT(" in sql[1]
    assert page.has_next()


def test_one_page_lists_and_empty_lists_run_one_query(world):
    with CaptureQueriesContext(connection) as queries:
        few = CappedPaginator(User.objects.filter(is_superuser=True).order_by("pk"), 50).get_page(1)
        none = CappedPaginator(User.objects.none(), 50).get_page(None)
        figures = [(page.paginator.count, page.paginator.num_pages, len(page)) for page in (few, none)]
    assert figures == [(User.objects.filter(is_superuser=True).count(), 1, len(few)), (0, 1, 0)]
    assert all("COUNT(" not in query["sql"] for query in queries.captured_queries)


def test_page_numbers_out_of_range_or_not_numbers_are_djangos_first_or_last_page(world):
    pks = list(User.objects.order_by("pk").values_list("pk", flat=True))
    last = (len(pks) + 1) // 2
    for asked, expected in (("x", 1), (None, 1), ("2.5", 1), ("0", last), ("-3", last), (str(last + 5), last)):
        page, shown, figures, _sql = _pages_of_users(asked)
        assert (page.number, shown) == (expected, pks[(expected - 1) * 2 : expected * 2]), asked
        assert figures == (len(pks), last, False)


def test_a_page_reaching_past_the_cap_is_cut_at_the_cap_as_before(world):
    pks = list(User.objects.order_by("pk").values_list("pk", flat=True))
    assert len(pks) > 4
    page, shown, figures, _sql = _pages_of_users(2, cap=3)
    assert shown == pks[2:3]
    assert figures == (3, 2, True)


def _counts(client, params=None) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("trainees:list"), params or {})
    assert response.status_code == 200
    return sum(query["sql"].startswith("SELECT COUNT(*)") for query in queries.captured_queries), response


def test_a_list_past_the_cap_is_counted_once_for_its_pages_and_per_account_and_filters(rworld, settings):
    settings.LIST_COUNT_CAP = 60
    _records(rworld, 130)
    world = rworld.world
    region, wuhan = world.client_for(world.region_user), world.client_for(world.wuhan_user)

    counted, first = _counts(region)
    assert counted == 1 and first.context["page"].paginator.capped
    again, later = _counts(region, {"page": 1})
    assert again == 0 and later.context["page"].paginator.capped
    assert later.context["page"].paginator.num_pages == 2
    assert [record["pk"] for record in later.context["page"].object_list] == [
        record["pk"] for record in first.context["page"].object_list
    ]
    assert _counts(region, {"result": "passed"})[0] == 1  # other filters: another list
    assert _counts(region, {"result": "passed"})[0] == 0
    assert _counts(wuhan)[0] == 1  # another account


def _window_counted(client, params=None) -> tuple[int, int, object]:
    """(separate counts, pages of ids read with the count of all, response) of one view of the record list."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("trainees:list"), params or {})
    assert response.status_code == 200
    sql = [query["sql"] for query in queries.captured_queries]
    return sum(s.startswith("SELECT COUNT(*)") for s in sql), sum("COUNT(*) OVER ()" in s for s in sql), response


def test_a_list_under_the_cap_is_counted_on_every_view_and_shows_a_new_record_at_once(rworld, settings):
    settings.LIST_COUNT_CAP = 200
    _records(rworld, 55)
    client = rworld.world.client_for(rworld.world.region_user)
    counted, windowed, first = _window_counted(client)
    assert (counted, windowed, first.context["page"].paginator.count) == (1, 0, 55)
    world = rworld.world
    make_record(make_person(99), world.wuchang_hospital, rworld.year, rworld.clinical, "2024-07-01", "2025-06-30")
    counted, windowed, again = _window_counted(client)  # known under the cap: the ids come with the count
    assert (counted, windowed, again.context["page"].paginator.count) == (0, 1, 56)
    assert not again.context["page"].paginator.capped
    assert [row["pk"] for row in again.context["page"].object_list] == [
        row["pk"] for row in _window_counted(client, {"page": 1})[2].context["page"].object_list
    ]
    second = _window_counted(client, {"page": 2})
    assert second[:2] == (0, 1)
    assert len(second[2].context["page"].object_list) == 6 and second[2].context["page"].paginator.count == 56


def test_a_list_known_under_the_cap_that_grew_past_it_says_so_and_is_then_known_past_it(rworld, settings):
    settings.LIST_COUNT_CAP = 60
    _records(rworld, 55)
    client = rworld.world.client_for(rworld.world.region_user)
    assert _window_counted(client)[:2] == (1, 0)
    world = rworld.world
    for serial in range(100, 110):
        make_record(
            make_person(serial), world.wuchang_hospital, rworld.year, rworld.clinical, "2024-07-01", "2025-06-30"
        )
    counted, windowed, grown = _window_counted(client)
    paginator = grown.context["page"].paginator
    assert (counted, windowed, paginator.capped, paginator.count, paginator.num_pages) == (0, 1, True, 60, 2)
    assert _window_counted(client)[:2] == (0, 0)  # past the cap now: neither counted nor window counted


def test_a_page_past_the_end_of_a_list_known_under_the_cap_is_the_last_page(rworld, settings):
    settings.LIST_COUNT_CAP = 1000
    _records(rworld, 55)
    client = rworld.world.client_for(rworld.world.region_user)
    _window_counted(client)
    counted, windowed, response = _window_counted(client, {"page": 7})
    page = response.context["page"]
    assert (page.number, len(page.object_list), page.paginator.count) == (2, 5, 55)
    assert windowed == 1 and counted == 1  # the empty page told nothing: counted, as Django's paginator does


def test_the_paginator_reads_a_page_with_its_count_only_for_a_list_known_under_the_cap(world):
    users = User.objects.order_by("pk")
    pks = list(users.values_list("pk", flat=True))
    assert len(pks) > 4

    def page_two(size_key):
        with CaptureQueriesContext(connection) as queries:
            listed = users.values_list("pk", flat=True)
            paginator = CappedPaginator(listed, 2, size_key=size_key, counted_list=CountedRows.of(listed))
            page = paginator.get_page(2)
            figures = (list(page), paginator.count, paginator.num_pages, paginator.capped)
        return figures, [query["sql"] for query in queries.captured_queries]

    expected = (pks[2:4], len(pks), (len(pks) + 1) // 2, False)
    unnamed, sql = page_two(None)
    assert unnamed == expected and len(sql) == 2 and "OVER" not in sql[0] and sql[1].startswith("SELECT COUNT(*)")
    first, sql = page_two("users")  # not known yet: counted apart, then known under the cap
    assert first == expected and len(sql) == 2 and sql[1].startswith("SELECT COUNT(*)")
    again, sql = page_two("users")
    assert again == expected and len(sql) == 1 and "COUNT(*) OVER ()" in sql[0]


def test_the_name_a_list_is_remembered_by_keeps_no_search_text(rworld):
    from django.http import QueryDict

    from trainees.views import _size_key, filter_records

    user = rworld.world.region_user
    number = "420106199001011234"
    form, _records_found = filter_records(user, QueryDict(f"q={number}"))
    key = _size_key(user, form)
    assert number not in key and key != _size_key(user, filter_records(user, QueryDict("q=42010"))[0])
    assert key == _size_key(user, filter_records(user, QueryDict(f"q={number}&page=3"))[0])


def test_counted_rows_give_the_lists_slices_in_its_order_with_the_number_of_all(rworld):
    _records(rworld, 7)
    records = ProbationRecord.objects.filter(institution=rworld.world.wuchang_hospital)
    for order in (("-created_at", "pk"), ("start_date", "pk"), ("-start_date", "-pk"), ("pk",), ("person__name", "pk")):
        listed = records.order_by(*order).values_list("pk", flat=True)
        expected = list(listed)
        assert len(expected) == 7
        counted = CountedRows.of(listed)
        assert counted[0:3] == [(pk, 7) for pk in expected[:3]], order
        assert counted[5:9] == [(pk, 7) for pk in expected[5:]], order
        assert counted[8:10] == []


def test_counted_rows_are_not_offered_for_a_list_in_no_order(rworld):
    assert CountedRows.of(ProbationRecord.objects.order_by().values_list("pk", flat=True)) is None


def test_a_list_sorted_by_name_is_read_with_its_count_once_known_under_the_cap(rworld, settings):
    settings.LIST_COUNT_CAP = 200
    _records(rworld, 55)
    client = rworld.world.client_for(rworld.world.region_user)
    for expected in ((1, 0, 55), (0, 1, 55)):
        counted, windowed, response = _window_counted(client, {"sort": "person__name"})
        assert (counted, windowed, response.context["page"].paginator.count) == expected
        names = [row["person__name"] for row in response.context["page"].object_list]
        assert len(names) == 50 and names == sorted(names)
    second = client.get(reverse("trainees:list"), {"sort": "person__name", "page": 2}).context["page"].object_list
    assert len(second) == 5 and min(row["person__name"] for row in second) >= max(names)
