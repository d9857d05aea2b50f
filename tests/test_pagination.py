"""Long lists count at most settings.LIST_COUNT_CAP rows and then say "more than"."""

from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from hbwsrc.pagination import CappedPaginator, rows_as_values
from institutions.models import Institution
from tests.record_helpers import make_person, make_record


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
