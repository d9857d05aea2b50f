"""A region office's jurisdiction is its whole region: its scope of institutions is the region (institutions
migration 0008), which its lists read in order from indexes that start with it; the offices beneath it keep their
subtree's path range."""

import pytest

from institutions.models import Institution
from tests.test_record_search import plan


@pytest.mark.parametrize("who", ["region_user", "wuhan_user", "wuchang_user", "yichang_user", "hunan_user"])
def test_an_office_sees_the_institutions_beneath_it_and_no_other(world, who):
    user = getattr(world, who)
    beneath = Institution.objects.filter(path__startswith=user.office.path)
    seen = Institution.objects.for_user(user)
    assert set(seen) == set(beneath) and seen.count() == beneath.count() > 0


def test_a_region_office_is_scoped_by_its_region_and_a_county_by_its_subtree(world):
    def condition(user) -> str:
        return str(Institution.objects.for_user(user).order_by().values("pk").query).split(" WHERE ")[1]

    assert condition(world.region_user) == f'"institutions_institution"."region_id" = {world.hubei.pk}'
    assert '"path"' in condition(world.wuchang_user) and "region_id" not in condition(world.wuchang_user)


def test_a_region_offices_lists_read_their_first_rows_from_the_region_indexes(world):
    institutions = Institution.objects.for_user(world.region_user)
    assert "institution_unique_name_in_region" in plan(institutions.order_by("name").values("pk")[:50])
    assert "institution_region_tree_idx" in plan(institutions.in_tree_order().values("pk")[:50])


def test_the_region_office_no_longer_sees_an_institution_moved_to_another_region(world):
    moved = world.provincial_hospital  # no records: it may move
    assert Institution.objects.for_user(world.region_user).filter(pk=moved.pk).exists()
    moved.office = world.hunan_office
    moved.save()
    assert not Institution.objects.for_user(world.region_user).filter(pk=moved.pk).exists()
    assert Institution.objects.for_user(world.hunan_user).filter(pk=moved.pk).exists()
