"""The office tree: paths, subtree queries, creating and editing nodes, lists, home pages, scoping, query budget."""

import re
from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from guardian.shortcuts import assign_perm

from accounts import actions as account_actions
from accounts.models import AuditEvent, User
from institutions import actions
from institutions.models import (
    Institution,
    InstitutionUserObjectPermission,
    Office,
    OfficeUserObjectPermission,
    Region,
    institutions_per_path,
)
from institutions.scope import VIEW_OFFICE, scope_for
from tests.world import logged_in, make_account


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(message)


def names(objects) -> set[str]:
    """The names of model instances, or of a list page's rows (dicts)."""
    return {obj["name"] if isinstance(obj, dict) else obj.name for obj in objects}


def new_office_url(parent) -> str:
    return reverse("institutions:office_create", args=[parent.public_id])


def new_institution_url(office) -> str:
    return reverse("institutions:institution_create", args=[office.public_id])


def form_error_codes(response, field) -> set[str]:
    return {error.code for error in response.context["form"].errors.as_data().get(field, [])}


# --- paths and subtrees ----------------------------------------------------------------------------------------


def test_the_offices_shown_above_an_office_are_those_within_the_accounts_jurisdiction(world, django_assert_num_queries):
    root, wuhan, wuchang = world.hubei_office, world.wuhan, world.wuchang
    for office in (root, wuhan, wuchang):
        office.refresh_from_db()
    region, prefecture = scope_for(world.region_user), scope_for(world.wuhan_user)
    with django_assert_num_queries(1):
        assert region.offices_above(wuchang) == [root, wuhan]
    with django_assert_num_queries(1):
        assert prefecture.offices_above(wuchang) == [wuhan]  # nothing above the account's own office
    with django_assert_num_queries(0):  # an account's own office, and the top of the tree: none, and no query
        assert prefecture.offices_above(wuhan) == []
        assert region.offices_above(root) == []
    elsewhere_too = make_account("wuchang_and_yichang", wuchang)  # a grant in another prefecture shows nothing more
    assign_perm(VIEW_OFFICE, elsewhere_too, world.yichang)
    scope = scope_for(elsewhere_too)
    with django_assert_num_queries(0):
        assert scope.offices_above(wuchang) == []


def test_office_paths_and_depths_follow_a_three_level_tree(world):
    root, wuhan, wuchang = world.hubei_office, world.wuhan, world.wuchang
    for office in (root, wuhan, wuchang):
        office.refresh_from_db()
    assert root.path == f"{root.pk}/"
    assert wuhan.path == f"{root.pk}/{wuhan.pk}/"
    assert wuchang.path == f"{root.pk}/{wuhan.pk}/{wuchang.pk}/"
    assert (root.depth, wuhan.depth, wuchang.depth) == (0, 1, 2)
    assert wuchang.is_within(wuhan) and wuchang.is_within(root) and wuchang.is_within(wuchang)
    assert not wuhan.is_within(wuchang)
    assert not world.yichang.is_within(wuhan)


def test_institutions_copy_the_path_of_their_supervising_office(world):
    world.wuchang.refresh_from_db()
    world.wuchang_hospital.refresh_from_db()
    assert world.wuchang_hospital.path == world.wuchang.path
    assert world.wuchang_hospital.region == world.hubei


def test_an_office_created_through_the_action_gets_the_path_beneath_its_parent(world):
    site = actions.create_office(world.wuchang, acting_user=world.wuhan_user, name="武昌考点", kind="exam_site")
    site.refresh_from_db()
    world.wuchang.refresh_from_db()
    assert site.path == f"{world.wuchang.path}{site.pk}/"
    assert site.depth == 3
    assert site.region == world.hubei


def test_beneath_queries_return_exactly_the_subtree(world):
    wuhan_path = Office.objects.get(pk=world.wuhan.pk).path
    assert names(Office.objects.filter(path__subtree=wuhan_path)) == {"武汉市", "武昌区", "洪山区"}
    assert names(Institution.objects.filter(path__subtree=wuhan_path)) == {
        "武汉市武昌医院",
        "洪山街社区卫生服务中心",
    }
    root_path = Office.objects.get(pk=world.hubei_office.pk).path
    assert names(Office.objects.filter(path__subtree=root_path)) == {
        "湖北考区",
        "武汉市",
        "武昌区",
        "洪山区",
        "宜昌市",
    }
    assert names(Institution.objects.filter(path__subtree=root_path)) == {
        "武汉市武昌医院",
        "洪山街社区卫生服务中心",
        "宜昌市第一人民医院",
        "湖北省人民医院",
    }
    everywhere = set(Institution.objects.values_list("name", flat=True))
    assert names(Institution.objects.filter(path__subtree="")) == everywhere


def test_a_subtree_holds_no_office_whose_id_only_begins_like_its_own(world):
    """ "1/2/19/" and "1/2/190/" share a prefix of characters, not of ids."""
    institutions = list(Institution.objects.order_by("pk"))[:4]
    paths = ["1/2/19/", "1/2/190/", "1/2/19/7/", "1/2/1/"]
    for institution, path in zip(institutions, paths, strict=True):
        Institution.objects.filter(pk=institution.pk).update(path=path)
    beneath = Institution.objects.filter(path__subtree="1/2/19/").values_list("path", flat=True)
    assert sorted(beneath) == ["1/2/19/", "1/2/19/7/"]
    assert sorted(Institution.objects.filter(path__subtree="1/2/").values_list("path", flat=True)) == sorted(paths)


def test_a_subtree_beneath_a_region_office_is_a_range_and_a_whole_region_a_prefix(world):
    """A range's generic plan suits any subtree beneath a region office; a whole region is planned for its value
    (institutions.models.Subtree, hbwsrc.db)."""
    beneath = str(Institution.objects.filter(path__subtree=world.wuhan.path).query)
    assert f"~>=~ {world.wuhan.path} AND" in beneath and "LIKE" not in beneath
    whole = str(Institution.objects.filter(path__subtree=world.hubei_office.path).query)
    assert f"LIKE {world.hubei_office.path}%" in whole and "~>=~" not in whole


@pytest.mark.parametrize(
    "user,offices,institutions",
    [
        (
            "region_user",
            {"湖北考区", "武汉市", "武昌区", "洪山区", "宜昌市"},
            {"武汉市武昌医院", "洪山街社区卫生服务中心", "宜昌市第一人民医院", "湖北省人民医院"},
        ),
        ("wuhan_user", {"武汉市", "武昌区", "洪山区"}, {"武汉市武昌医院", "洪山街社区卫生服务中心"}),
        ("wuchang_user", {"武昌区"}, {"武汉市武昌医院"}),
        ("hunan_user", {"湖南考区"}, {"湖南省人民医院"}),
        ("master", set(), {"武汉市武昌医院"}),
        ("staff", set(), {"武汉市武昌医院"}),
    ],
)
def test_each_account_sees_exactly_its_subtree(world, user, offices, institutions):
    scope = scope_for(getattr(world, user))
    assert names(scope.offices()) == offices
    assert names(scope.institutions()) == institutions


@pytest.mark.parametrize("user", ["region_user", "wuhan_user", "wuchang_user", "hunan_user", "master", "staff"])
def test_an_account_s_regions_are_those_of_everything_it_sees(world, user):
    scope = scope_for(getattr(world, user))
    seen = {o.region_id for o in scope.offices()} | {i.region_id for i in scope.institutions()}
    assert scope.region_ids() == seen
    assert len(seen) == 1


def test_grants_are_read_in_one_query_and_grants_beyond_the_own_node_are_kept(world):
    """The grants of both kinds come in one query, and the account's own node is not read again; a grant held on
    another node (none of the roles has one, but guardian allows it) still counts."""
    user = User.objects.select_related("office", "institution").get(pk=world.wuhan_user.pk)
    with CaptureQueriesContext(connection) as queries:
        scope = scope_for(user)
    assert len(queries) == 1
    assert next(iter(scope.offices_granted)) is user.office
    OfficeUserObjectPermission.objects.assign_perm("view_office", user, world.yichang)
    user = User.objects.select_related("office", "institution").get(pk=user.pk)
    assert names(scope_for(user).offices()) == {"武汉市", "武昌区", "洪山区", "宜昌市"}


# --- creating and editing --------------------------------------------------------------------------------------


def test_duplicate_division_code_in_the_same_region_gets_a_clear_message(world):
    offices_before = Office.objects.count()
    response = world.client_for(world.wuhan_user).post(
        new_office_url(world.wuhan), {"name": "新武昌区", "kind": "county", "division_code": "420106"}
    )
    assert response.status_code == 200
    assert zh("Another office in this region already has this division code.") in response.content.decode()
    assert response.context["form"].errors
    assert Office.objects.count() == offices_before
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.OFFICE_CREATE).exists()


def test_duplicate_division_code_elsewhere_in_the_same_region_is_refused_too(world):
    # 420500 belongs to 宜昌市, outside 武汉市's subtree but in the same region.
    response = world.client_for(world.wuhan_user).post(
        new_office_url(world.wuhan), {"name": "某区", "kind": "county", "division_code": "420500"}
    )
    assert response.status_code == 200
    assert zh("Another office in this region already has this division code.") in response.content.decode()
    assert not Office.objects.filter(name="某区").exists()


def test_editing_an_office_to_a_division_code_taken_in_the_region_gets_a_clear_message(world):
    response = world.client_for(world.wuhan_user).post(
        reverse("institutions:office_edit", args=[world.wuchang.public_id]),
        {"name": "武昌区", "kind": "county", "division_code": "420111"},
    )
    assert response.status_code == 200
    assert zh("Another office in this region already has this division code.") in response.content.decode()
    assert Office.objects.get(pk=world.wuchang.pk).division_code == "420106"
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.OFFICE_UPDATE).exists()


def test_the_same_division_code_in_another_region_is_allowed(world):
    response = world.client_for(world.hunan_user).post(
        new_office_url(world.hunan_office), {"name": "长沙市", "kind": "prefecture", "division_code": "420106"}
    )
    assert response.status_code == 302
    office = Office.objects.get(name="长沙市")
    assert response["Location"] == office.get_absolute_url()
    assert office.region == world.hunan
    assert office.parent == world.hunan_office
    assert Office.objects.filter(division_code="420106").count() == 2


def test_creating_a_sub_office_is_audited(world):
    response = world.client_for(world.wuhan_user).post(
        new_office_url(world.wuhan), {"name": "江岸区", "kind": "county", "division_code": "420102"}
    )
    assert response.status_code == 302
    office = Office.objects.get(name="江岸区")
    assert office.parent == world.wuhan
    [event] = AuditEvent.objects.filter(kind=AuditEvent.Kind.OFFICE_CREATE)
    assert event.actor == world.wuhan_user
    assert event.target_id == str(office.public_id)
    assert event.changes["division_code"] == [None, "420102"]
    assert event.changes["name"] == [None, "江岸区"]


def test_duplicate_office_name_under_the_same_parent_is_refused_without_a_server_error(world):
    response = world.client_for(world.wuhan_user).post(
        new_office_url(world.wuhan), {"name": "武昌区", "kind": "county", "division_code": ""}
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert Office.objects.filter(name="武昌区").count() == 1


def test_an_office_cannot_move_an_institution_outside_its_subtree_by_forging_the_office_field(world):
    response = world.client_for(world.wuchang_user).post(
        reverse("institutions:institution_edit", args=[world.wuchang_hospital.public_id]),
        {"name": world.wuchang_hospital.name, "office": world.yichang.pk},
    )
    assert response.status_code == 200
    assert "invalid_choice" in form_error_codes(response, "office")
    world.wuchang_hospital.refresh_from_db()
    assert world.wuchang_hospital.office == world.wuchang
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.INSTITUTION_UPDATE).exists()


def test_an_office_cannot_move_an_institution_to_its_own_parent_office(world):
    response = world.client_for(world.wuchang_user).post(
        reverse("institutions:institution_edit", args=[world.wuchang_hospital.public_id]),
        {"name": world.wuchang_hospital.name, "office": world.wuhan.pk},
    )
    assert response.status_code == 200
    assert "invalid_choice" in form_error_codes(response, "office")
    world.wuchang_hospital.refresh_from_db()
    assert world.wuchang_hospital.office == world.wuchang


def test_an_office_cannot_create_an_institution_outside_its_subtree_by_forging_the_office_field(world):
    response = world.client_for(world.wuchang_user).post(
        new_institution_url(world.wuchang), {"name": "伪造医院", "office": world.hongshan.pk}
    )
    assert response.status_code == 200
    assert "invalid_choice" in form_error_codes(response, "office")
    assert not Institution.objects.filter(name="伪造医院").exists()


def test_a_prefecture_may_move_an_institution_between_its_counties(world):
    response = world.client_for(world.wuhan_user).post(
        reverse("institutions:institution_edit", args=[world.wuchang_hospital.public_id]),
        {"name": world.wuchang_hospital.name, "office": world.hongshan.pk},
    )
    assert response.status_code == 302
    world.wuchang_hospital.refresh_from_db()
    world.hongshan.refresh_from_db()
    assert world.wuchang_hospital.office == world.hongshan
    assert world.wuchang_hospital.path == world.hongshan.path
    [event] = AuditEvent.objects.filter(kind=AuditEvent.Kind.INSTITUTION_UPDATE)
    assert event.changes == {"office": ["武昌区", "洪山区"]}


def test_moving_an_institution_is_refused_by_the_action_for_an_office_outside_the_subtree(world):
    with pytest.raises(PermissionDenied):
        actions.update_institution(world.wuchang_hospital, office=world.yichang, acting_user=world.wuchang_user)
    assert Institution.objects.get(pk=world.wuchang_hospital.pk).office == world.wuchang


def test_a_new_institution_with_a_name_taken_in_the_region_gets_a_message_not_a_server_error(world):
    response = world.client_for(world.wuhan_user).post(
        new_institution_url(world.wuhan), {"name": "宜昌市第一人民医院", "office": world.wuhan.pk}
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert Institution.objects.filter(name="宜昌市第一人民医院").count() == 1


# --- failures leave nothing half-done --------------------------------------------------------------------------


@pytest.fixture
def failing_audit(monkeypatch):
    def record(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr("accounts.audit.record", record)


def test_a_failure_while_creating_an_office_leaves_no_office(world, failing_audit):
    offices_before = Office.objects.count()
    with pytest.raises(RuntimeError):
        actions.create_office(
            world.wuhan, acting_user=world.wuhan_user, name="半截区", kind="county", division_code="420199"
        )
    assert Office.objects.count() == offices_before
    assert not Office.objects.filter(name="半截区").exists()


def test_a_failure_while_creating_an_office_through_the_view_leaves_no_office(world, monkeypatch):
    client = Client(raise_request_exception=False)
    client.force_login(world.wuhan_user)  # before the audit fails: a login is audited too
    monkeypatch.setattr("accounts.audit.record", lambda *args, **kwargs: 1 / 0)
    response = client.post(new_office_url(world.wuhan), {"name": "半截区", "kind": "county", "division_code": ""})
    assert response.status_code == 500
    assert not Office.objects.filter(name="半截区").exists()


def test_a_failure_while_creating_an_institution_leaves_no_institution(world, failing_audit):
    with pytest.raises(RuntimeError):
        actions.create_institution(world.wuchang, acting_user=world.wuhan_user, name="半截医院")
    assert not Institution.objects.filter(name="半截医院").exists()


def test_a_failure_while_issuing_an_account_leaves_no_account_and_no_grant(world, failing_audit):
    users_before = User.objects.count()
    office_grants = OfficeUserObjectPermission.objects.count()
    institution_grants = InstitutionUserObjectPermission.objects.count()
    with pytest.raises(RuntimeError):
        account_actions.issue_account(
            world.wuchang, username="half_done", permissions=["manage_accounts"], acting_user=world.wuhan_user
        )
    institution = Institution.objects.create(office=world.wuchang, name="武昌区第四医院")
    with pytest.raises(RuntimeError):
        account_actions.issue_account(institution, username="half_master", acting_user=world.wuchang_user)
    assert User.objects.count() == users_before
    assert not User.objects.filter(username__in=["half_done", "half_master"]).exists()
    assert OfficeUserObjectPermission.objects.count() == office_grants
    assert InstitutionUserObjectPermission.objects.count() == institution_grants


def test_a_failure_while_disabling_an_account_leaves_it_active(world, failing_audit):
    with pytest.raises(RuntimeError):
        account_actions.set_account_active(world.staff, False, acting_user=world.master)
    assert User.objects.get(pk=world.staff.pk).is_active


# --- lists and search ------------------------------------------------------------------------------------------


def listed(response) -> set[str]:
    assert response.status_code == 200
    return names(response.context["page"].object_list)


def test_office_list_shows_the_whole_subtree(world):
    client = world.client_for(world.region_user)
    assert listed(client.get(reverse("institutions:office_list"))) == {
        "湖北考区",
        "武汉市",
        "武昌区",
        "洪山区",
        "宜昌市",
    }


@pytest.mark.parametrize(
    "q,expected",
    [
        ("武", {"武汉市", "武昌区"}),
        ("宜昌", {"宜昌市"}),
        ("4201", {"武汉市", "武昌区", "洪山区"}),
        ("420111", {"洪山区"}),
        ("湖南", set()),
        ("  洪山  ", {"洪山区"}),
    ],
)
def test_office_list_search_by_name_or_division_code(world, q, expected):
    client = world.client_for(world.region_user)
    assert listed(client.get(reverse("institutions:office_list"), {"q": q})) == expected


def test_office_list_search_stays_within_the_subtree(world):
    client = world.client_for(world.wuhan_user)
    assert listed(client.get(reverse("institutions:office_list"), {"q": "市"})) == {"武汉市"}


@pytest.mark.parametrize(
    "user,q,expected",
    [
        ("region_user", "医院", {"武汉市武昌医院", "宜昌市第一人民医院", "湖北省人民医院"}),
        ("region_user", "", {"武汉市武昌医院", "洪山街社区卫生服务中心", "宜昌市第一人民医院", "湖北省人民医院"}),
        ("wuhan_user", "医院", {"武汉市武昌医院"}),
        ("wuhan_user", "人民", set()),
        ("hunan_user", "人民", {"湖南省人民医院"}),
    ],
)
def test_institution_list_search_is_scoped(world, user, q, expected):
    client = world.client_for(getattr(world, user))
    assert listed(client.get(reverse("institutions:institution_list"), {"q": q})) == expected


def test_office_list_paginates_at_fifty(world):
    for number in range(55):
        Office.objects.create(region=world.hubei, parent=world.yichang, name=f"考点{number:02d}", kind="exam_site")
    client = world.client_for(world.region_user)
    first = client.get(reverse("institutions:office_list"))
    assert len(first.context["page"].object_list) == 50
    second = client.get(reverse("institutions:office_list"), {"page": 2})
    assert len(second.context["page"].object_list) == 60 - 50
    assert second.context["page"].paginator.count == 60


# --- home pages ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "user,node",
    [
        ("region_user", "hubei_office"),
        ("wuhan_user", "wuhan"),
        ("wuchang_user", "wuchang"),
        ("hunan_user", "hunan_office"),
        ("master", "wuchang_hospital"),
        ("staff", "wuchang_hospital"),
        ("yichang_master", "yichang_hospital"),
    ],
)
def test_home_page_redirects_each_role_to_its_own_node(world, user, node):
    client = world.client_for(getattr(world, user))
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == getattr(world, node).get_absolute_url()
    assert client.get(response["Location"]).status_code == 200


def test_home_page_sends_a_superuser_without_a_node_to_the_admin(world):
    admin = User.objects.create_superuser("root", password="Root-Password-2026")
    response = world.client_for(admin).get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_home_page_sends_anonymous_visitors_to_the_login(world):
    response = Client().get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def _row_numbers(html: str, office_name: str) -> list[str]:
    """The numeric cells of the table row that links to ``office_name``."""
    row = re.search(rf"<tr>\s*<td><a [^>]*>{office_name}</a></td>(.*?)</tr>", html, re.S)
    assert row, f"no row for {office_name}"
    return re.findall(r'<td class="num">(\d+)</td>', row.group(1))


def test_region_office_home_shows_the_institutions_beneath_each_prefecture(world):
    Institution.objects.create(office=world.hongshan, name="洪山区第二医院")
    client = world.client_for(world.region_user)
    response = client.get(client.get(reverse("home"))["Location"])
    assert response.status_code == 200
    counts = {row["name"]: (row["child_count"], row["institution_count"]) for row in response.context["children"]}
    assert counts == {"武汉市": (2, 3), "宜昌市": (0, 1)}
    html = response.content.decode()
    assert _row_numbers(html, "武汉市") == ["2", "3"]
    assert _row_numbers(html, "宜昌市") == ["0", "1"]


def test_office_list_counts_institutions_of_the_whole_subtree(world):
    response = world.client_for(world.region_user).get(reverse("institutions:office_list"))
    counts = {office["name"]: office["institution_count"] for office in response.context["page"].object_list}
    assert counts == {"湖北考区": 4, "武汉市": 2, "武昌区": 1, "洪山区": 1, "宜昌市": 1}


def test_institutions_are_counted_per_path_beneath_any_prefix(world):
    Institution.objects.create(office=world.hongshan, name="洪山区第二医院")
    paths = list(Institution.objects.values_list("path", flat=True))
    for prefix in ["", *Office.objects.values_list("path", flat=True)]:
        expected = Counter(path for path in paths if path.startswith(prefix))
        assert dict(institutions_per_path(prefix)) == expected, prefix


# --- institution accounts see only their institution ------------------------------------------------------------


@pytest.mark.parametrize("user", ["master", "staff"])
def test_an_institution_account_sees_only_its_own_institution(world, user):
    client = world.client_for(getattr(world, user))
    assert listed(client.get(reverse("institutions:institution_list"))) == {"武汉市武昌医院"}
    assert listed(client.get(reverse("institutions:institution_list"), {"q": "医院"})) == {"武汉市武昌医院"}
    # The office list answers, but lists nothing: an institution holds no office permission.
    assert listed(client.get(reverse("institutions:office_list"))) == set()
    assert client.get(world.hongshan_centre.get_absolute_url()).status_code == 404
    assert client.get(world.wuchang.get_absolute_url()).status_code == 404
    own = client.get(world.wuchang_hospital.get_absolute_url())
    assert own.status_code == 200
    html = own.content.decode()
    assert "武汉市武昌医院" in html
    # The supervising office is named, not linked, and the office pages are not offered in the menu.
    assert world.wuchang.get_absolute_url() not in html
    assert reverse("institutions:office_list") not in html


def test_an_office_account_does_not_see_a_sibling_subtree(world):
    client = world.client_for(world.wuchang_user)
    assert client.get(world.hongshan.get_absolute_url()).status_code == 404
    assert client.get(world.hongshan_centre.get_absolute_url()).status_code == 404
    assert client.get(world.wuhan.get_absolute_url()).status_code == 404


# --- query budget ----------------------------------------------------------------------------------------------


@pytest.fixture
def small_region(db):
    region = Region.objects.create(name="测试考区", division_code="990000")
    root = Office.objects.create(region=region, name="测试考区", kind="region", division_code="990000")
    Office.objects.create(region=region, parent=root, name="甲市", kind="prefecture")
    return root


def _office_list_queries(client) -> tuple[int, int]:
    url = reverse("institutions:office_list")
    client.get(url)  # warm up: session, caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), len(response.context["page"].object_list)


def test_office_list_issues_the_same_number_of_queries_for_2_and_30_offices(small_region, django_assert_num_queries):
    user = make_account("testregion", small_region)
    client = logged_in(user)  # a region-office account: past the second factor too
    small, listed_small = _office_list_queries(client)
    assert listed_small == 2

    prefecture = small_region.children.get()
    for number in range(28):
        county = Office.objects.create(region=small_region.region, parent=prefecture, name=f"{number}县", kind="county")
        Institution.objects.create(office=county, name=f"{number}县人民医院")
    url = reverse("institutions:office_list")
    with django_assert_num_queries(small):
        response = client.get(url)
    assert len(response.context["page"].object_list) == 30
    assert response.context["page"].object_list[0]["institution_count"] == 28


def test_institution_list_issues_the_same_number_of_queries_for_1_and_30_institutions(
    small_region, django_assert_num_queries
):
    user = make_account("testregion", small_region)
    client = logged_in(user)  # a region-office account: past the second factor too
    url = reverse("institutions:institution_list")
    prefecture = small_region.children.get()
    Institution.objects.create(office=prefecture, name="第0医院")
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    for number in range(1, 30):
        Institution.objects.create(office=prefecture, name=f"第{number}医院")
    with django_assert_num_queries(len(queries)):
        response = client.get(url)
    assert len(response.context["page"].object_list) == 30
