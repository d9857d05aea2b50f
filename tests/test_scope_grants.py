"""institutions.scope reads an account's grants from both of guardian's tables with SQL written once: the rows are
the ones guardian's models hold, for accounts with grants in one table, in both, or in none."""

import pytest
from guardian.shortcuts import assign_perm

from institutions.models import InstitutionUserObjectPermission, OfficeUserObjectPermission
from institutions.scope import VIEW_INSTITUTION, _grant_rows, scope_for
from tests.world import make_account


def _through_guardians_models(user) -> set:
    rows = set()
    for kind, model in (("office", OfficeUserObjectPermission), ("institution", InstitutionUserObjectPermission)):
        grants = model.objects.filter(user=user).values_list("content_object_id", "permission__codename")
        rows.update((kind, node_id, codename) for node_id, codename in grants)
    return rows


@pytest.mark.parametrize("who", ["region_user", "wuchang_user", "master", "staff", "hunan_master"])
def test_the_grant_rows_are_guardians(world, who):
    user = getattr(world, who)
    rows = _grant_rows(user)
    assert rows and len(rows) == len(set(rows))
    assert set(rows) == _through_guardians_models(user)


def test_grants_in_both_tables_and_in_none(world, django_assert_num_queries):
    both = make_account("both", world.wuchang)
    assign_perm(VIEW_INSTITUTION, both, world.yichang_hospital)
    none = make_account("none", world.hongshan, perms=())
    assert {kind for kind, _id, _codename in _grant_rows(both)} == {"office", "institution"}
    assert set(_grant_rows(both)) == _through_guardians_models(both)
    assert _grant_rows(none) == []
    with django_assert_num_queries(2):  # the grants, then the granted institution (the own office came with it)
        scope = scope_for(both)
    assert scope.has_institution_perm(VIEW_INSTITUTION, world.yichang_hospital)
    assert not scope_for(none).offices().exists()
