"""hbwsrc.layout's fixed_url: the layout's menu URLs reversed once per process and script prefix."""

import re

import pytest
from django.urls import NoReverseMatch, clear_script_prefix, reverse, set_script_prefix

from hbwsrc.layout import fixed_url
from tests.test_headers import TEMPLATES
from tests.world import logged_in

MENU = re.findall(r"\{% fixed_url '([a-z_:]+)' %\}", (TEMPLATES / "base.html").read_text())


def test_the_layout_names_its_pages_with_fixed_url():
    assert len(MENU) >= 15 and "trainees:list" in MENU and "accounts:logout" in MENU


@pytest.mark.parametrize("viewname", MENU)
def test_fixed_url_is_reverse(viewname):
    assert fixed_url(viewname) == reverse(viewname)


def test_a_script_prefix_is_honoured_and_not_mixed_up_with_another():
    plain = fixed_url("trainees:list")
    set_script_prefix("/hbwsrc/")
    try:
        assert fixed_url("trainees:list") == "/hbwsrc" + plain == reverse("trainees:list")
    finally:
        clear_script_prefix()
    assert fixed_url("trainees:list") == plain


def test_an_unknown_page_fails_as_url_does():
    with pytest.raises(NoReverseMatch):
        fixed_url("trainees:nowhere")


def test_the_menu_links_of_a_page_are_the_reversed_urls(world):
    body = logged_in(world.region_user).get(reverse("trainees:list")).content.decode()
    for viewname in ("trainees:list", "reports:dashboard", "trainees:exam_years", "accounts:sessions"):
        assert f'href="{reverse(viewname)}"' in body
