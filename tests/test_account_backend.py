"""accounts.backends.load_account reads an account with its node and the node's region in one query written once:
the same objects select_related("office__region", "institution__region") gives, related objects attached. The
session's query reads them too (accounts.session_store), with the account's grants."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from guardian.shortcuts import assign_perm

from accounts.backends import AccountBackend, load_account
from accounts.session_store import SessionStore
from institutions.scope import _grant_rows, scope_for
from tests.auth_helpers import client_logged_in
from tests.world import PASSWORD

User = get_user_model()
ORM = User.objects.select_related("office__region", "institution__region")


def _fields(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


@pytest.mark.parametrize("who", ["region_user", "wuchang_user", "master", "hunan_master"])
def test_an_account_is_read_with_its_node_and_region(world, who, django_assert_num_queries):
    expected = ORM.get(pk=getattr(world, who).pk)
    with django_assert_num_queries(1):
        user = load_account(expected.pk)
        node, region = user.node, user.node.region  # attached: no further query
    assert _fields(user) == _fields(expected)
    assert _fields(node) == _fields(expected.node) and _fields(region) == _fields(expected.node.region)
    assert (user.office is None) == (expected.office is None)
    assert (user.institution is None) == (expected.institution is None)
    assert not user._state.adding and user._state.db == "default"


def test_an_account_without_a_node_has_none(db, django_assert_num_queries):
    admin = User.objects.create_superuser("root", password="x-Very-long-1")
    with django_assert_num_queries(1):
        user = load_account(admin.pk)
        assert user.office is None and user.institution is None and user.node is None
    assert _fields(user) == _fields(User.objects.get(pk=admin.pk))


def test_a_missing_or_disabled_account_is_no_user(world):
    assert load_account(10**9) is None
    User.objects.filter(pk=world.master.pk).update(is_active=False)
    assert load_account(world.master.pk) is not None
    assert AccountBackend().get_user(world.master.pk) is None
    assert AccountBackend().get_user(world.staff.pk).pk == world.staff.pk


def test_a_saved_account_stays_a_normal_model_instance(world):
    user = load_account(world.staff.pk)
    user.full_name = "新名字"
    user.save(update_fields=["full_name"])
    assert User.objects.get(pk=world.staff.pk).full_name == "新名字"


def test_pages_see_the_loaded_account(world):
    response = world.client_for(world.wuchang_user).get(reverse("home"), follow=True)
    assert response.status_code == 200
    assert response.context["user"].office.name == world.wuchang.name
    assert world.wuchang.name in response.content.decode()


def _session_store_of(client) -> SessionStore:
    return SessionStore(client.cookies["sessionid"].value)


def test_a_page_reads_the_session_its_account_and_the_grants_in_one_query(world):
    """accounts.session_store: the registry row, the account with its node and region, and the account's grants
    come with the session; nothing reads them again."""
    client = client_logged_in("wcyy", PASSWORD)
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("trainees:list"))
    assert page.status_code == 200 and page.context["user"].pk == world.master.pk
    [first, *others] = [q["sql"] for q in queries.captured_queries]
    assert "django_session" in first and "accounts_user" in first and "userobjectpermission" in first
    assert not [sql for sql in others if 'FROM "accounts_user"' in sql or "userobjectpermission" in sql], others
    granted = scope_for(page.context["user"]).institutions_granted
    assert granted == scope_for(load_account(world.master.pk)).institutions_granted


def test_the_grants_read_with_the_session_are_those_read_alone(world):
    """An account holding grants on both kinds of node and several on one: the same rows, in one query or two."""
    client = world.client_for(world.wuhan_user)
    assign_perm("view_institution", world.wuhan_user, world.yichang_hospital)
    store = _session_store_of(client)
    store.load()
    account = AccountBackend().get_user(world.wuhan_user.pk)
    assert sorted(account._grant_rows_read) == sorted(_grant_rows(world.wuhan_user))
    assert {kind for kind, _node, _codename in account._grant_rows_read} == {"office", "institution"}


def test_the_account_read_with_the_session_is_taken_once_and_only_for_the_id_it_was_read_for(
    world, django_assert_num_queries
):
    client = client_logged_in("wcyy", PASSWORD)
    _session_store_of(client).load()
    with django_assert_num_queries(1):  # another id: read for itself
        assert AccountBackend().get_user(world.staff.pk).pk == world.staff.pk

    _session_store_of(client).load()
    User.objects.filter(pk=world.master.pk).update(full_name="改名以后")
    with django_assert_num_queries(0):  # as the session's query saw it, a moment ago
        assert AccountBackend().get_user(world.master.pk).full_name != "改名以后"
    with django_assert_num_queries(1):  # taken: the next asks the database
        assert AccountBackend().get_user(world.master.pk).full_name == "改名以后"


def test_a_session_that_is_not_found_offers_no_account(world, django_assert_num_queries):
    client = client_logged_in("wcyy", PASSWORD)
    _session_store_of(client).load()
    SessionStore("no-such-session-key-0123456789ab").load()
    with django_assert_num_queries(1):
        assert AccountBackend().get_user(world.master.pk).pk == world.master.pk


def test_a_disabled_account_is_refused_even_as_read_with_the_session(world):
    client = client_logged_in("wcyy", PASSWORD)
    User.objects.filter(pk=world.master.pk).update(is_active=False)
    _session_store_of(client).load()
    assert AccountBackend().get_user(world.master.pk) is None
    assert client.get(reverse("trainees:list")).status_code == 302


@pytest.mark.parametrize("who", ["region_user", "wuchang_user", "master"])
def test_the_account_is_read_with_its_regions_current_exam_year(rworld, who, django_assert_num_queries):
    from trainees.models import ExamYear, current_exam_year

    account = getattr(rworld.world, who)
    with django_assert_num_queries(1):
        user = load_account(account.pk)
        year = current_exam_year(user.node.region)
        assert year.region is user.node.region  # attached: no further query
    assert _fields(year) == _fields(ExamYear.objects.get(region=account.node.region_id, is_current=True))


def test_a_region_without_a_current_year_reads_as_none_and_another_region_from_the_database(
    world, django_assert_num_queries
):
    from trainees.models import current_exam_year

    with django_assert_num_queries(1):
        user = load_account(world.wuchang_user.pk)
        assert current_exam_year(user.office.region) is None
    with django_assert_num_queries(1):
        assert current_exam_year(world.hunan) is None  # not read with an account: asked of the database


def test_the_filing_pages_take_the_current_year_read_with_the_session_and_see_a_new_one_at_once(rworld):
    from trainees.models import ExamYear

    world = rworld.world
    office, master = world.client_for(world.region_user), world.client_for(world.master)
    pages = ((office, reverse("reports:filing_list")), (office, reverse("reports:dashboard")),
             (master, reverse("reports:roster_home")))  # fmt: skip
    for client, url in pages:
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.context["exam_year"] == rworld.year
        assert not [query for query in queries.captured_queries if 'FROM "trainees_examyear"' in query["sql"]]

    ExamYear.objects.filter(pk=rworld.year.pk).update(is_current=False)
    later = ExamYear.objects.create(
        region=rworld.year.region, year=rworld.year.year + 1, cutoff=rworld.year.cutoff, is_current=True,
        entry_opens=rworld.year.entry_opens, entry_closes=rworld.year.entry_closes,
        filing_opens=rworld.year.filing_opens, filing_closes=rworld.year.filing_closes,
    )  # fmt: skip
    for client, url in pages:
        assert client.get(url).context["exam_year"] == later
