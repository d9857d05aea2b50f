"""accounts.backends.load_account reads an account with its node and the node's region in one query written once:
the same objects select_related("office__region", "institution__region") gives, related objects attached."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.backends import AccountBackend, load_account

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
