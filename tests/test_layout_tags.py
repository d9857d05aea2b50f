"""hbwsrc.layout: the layout's header and language switch written in Python (site_header, language_form), their
URLs reversed once per process and script prefix: the same markup the templates wrote, for every kind of account,
in both languages."""

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.cache import SessionStore
from django.middleware.csrf import _unmask_cipher_token, get_token
from django.template import Context, RequestContext, Template
from django.test import RequestFactory
from django.urls import NoReverseMatch, clear_script_prefix, get_script_prefix, reverse, set_script_prefix
from django.utils import translation

from hbwsrc.layout import ACCOUNT_LINKS, MENU, _reversed, site_header
from tests.markup_helpers import squeeze
from tests.world import logged_in

# The header as templates/base.html wrote it before (stop 25), kept here as the reference (its {% fixed_url %}, gone
# with it, written as the {% url %} it equalled).
TEMPLATE_HEADER = Template(
    """{% load i18n %}
  <a class="brand" href="{% url 'home' %}">{% translate "Physician exam probation platform" %}</a>
  {% if user.is_authenticated %}
  <nav class="mainnav">
    <a href="{% url 'trainees:list' %}">{% translate "Probation records" %}</a>
    {% if user.institution_id %}<a href="{% url 'reports:roster_home' %}">{% translate "Roster filing" %}</a>{% endif %}
    {% if user.office_id %}
      <a href="{% url 'reports:dashboard' %}">{% translate "Dashboard" %}</a>
      <a href="{% url 'institutions:office_list' %}">{% translate "Offices" %}</a>
      <a href="{% url 'institutions:institution_list' %}">{% translate "Institutions" %}</a>
      <a href="{% url 'reports:filing_list' %}">{% translate "Roster filings" %}</a>
      <a href="{% url 'reports:lookup' %}">{% translate "Eligibility lookup" %}</a>
      <a href="{% url 'trainees:conflicts' %}">{% translate "Overlap conflicts" %}</a>
      {% if not user.office.parent_id %}<a href="{% url 'trainees:exam_years' %}">{% translate "Exam years" %}</a>
      <a href="{% url 'reports:audit_events' %}">{% translate "Audit trail" %}</a>{% endif %}
    {% endif %}
    <a href="{% url 'accounts:list' %}">{% translate "Accounts" %}</a>
  </nav>
  <div class="userbox">
    <span>{{ user.full_name|default:user.username }} · {{ user.node|default:"" }}</span>
    <a href="{% url 'accounts:password_change' %}">{% translate "Change password" %}</a>
    <a href="{% url 'accounts:two_factor' %}">{% translate "Two-factor" %}</a>
    <a href="{% url 'accounts:sessions' %}">{% translate "My sessions" %}</a>
    <form method="post" action="{% url 'accounts:logout' %}" class="inline">{% csrf_token %}<button type="submit" class="link">{% translate "Log out" %}</button></form>
  </div>
  {% endif %}"""  # noqa: E501
)
HEADER = Template("{% load layout %}{% site_header %}")
# The footer's language switch as templates/base.html wrote it before (stop 25).
TEMPLATE_LANGUAGE_FORM = Template(
    """{% load i18n %}<form action="{% url 'set_language' %}" method="post" class="inline">{% csrf_token %}
    <input name="next" type="hidden" value="{{ request.get_full_path }}">
    {% get_available_languages as LANGUAGES %}
    {% for code, name in LANGUAGES %}<button type="submit" name="language" value="{{ code }}" class="link">{{ name }}</button>{% endfor %}
  </form>"""  # noqa: E501
)
LANGUAGE_FORM = Template("{% load layout %}{% language_form %}")
CSRF_VALUE = re.compile(r'value="([A-Za-z0-9]{64})"')
VIEWNAMES = [name for _label, name, _who in MENU] + [name for _label, name in ACCOUNT_LINKS] + ["accounts:logout"]


def render_both(user, reference=TEMPLATE_HEADER, tag=HEADER, path="/records/") -> tuple[str, str]:
    """The header for ``user`` as the template wrote it and as site_header writes it, whitespace squeezed and the
    CSRF token (masked afresh for each) named by its secret."""
    request = RequestFactory().get(path)
    request.user, request.session = user, SessionStore()
    get_token(request)

    def unmasked(match):
        return f'value="secret {_unmask_cipher_token(match.group(1))}"'

    return tuple(
        squeeze(CSRF_VALUE.sub(unmasked, template.render(RequestContext(request, {}))))
        for template in (reference, tag)
    )


def menu_links(html: str) -> list[str]:
    nav = html.split('<nav class="mainnav">')[1].split("</nav>")[0]
    return [link.split('"')[1] for link in nav.split('href=')[1:]]


@pytest.mark.parametrize("viewname", [*VIEWNAMES, "home", "set_language"])
def test_the_urls_are_reversed_as_url_does(viewname):
    assert _reversed(viewname, get_script_prefix()) == reverse(viewname)


def test_a_script_prefix_is_honoured_and_not_mixed_up_with_another(world):
    plain = reverse("trainees:list")
    set_script_prefix("/hbwsrc/")
    try:
        assert '<a class="brand" href="/hbwsrc/"' in HEADER.render(Context({"user": AnonymousUser()}))
        assert f'href="/hbwsrc{plain}"' in HEADER.render(Context({"user": world.staff}))
    finally:
        clear_script_prefix()
    assert f'href="{plain}"' in HEADER.render(Context({"user": world.staff}))


def test_an_unknown_page_fails_as_url_does():
    with pytest.raises(NoReverseMatch):
        _reversed("trainees:nowhere", "/")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(
    "account", ["region_user", "wuhan_user", "wuchang_user", "staff", "hunan_user", "superuser", "anonymous"]
)
def test_the_header_is_the_markup_the_template_wrote(world, superuser, account, language):
    user = {"superuser": superuser, "anonymous": AnonymousUser()}.get(account) or getattr(world, account)
    with translation.override(language):
        from_template, from_python = render_both(user)
    assert from_python == from_template
    assert ('name="csrfmiddlewaretoken"' in from_python) == (account != "anonymous")


def test_each_kind_of_account_sees_its_menu(world, superuser):
    """Institutions file rosters; offices see the office pages; only a region's own office the exam years and the
    audit trail."""
    seen = {
        account: menu_links(render_both(getattr(world, account))[1])
        for account in ("region_user", "wuhan_user", "wuchang_user", "staff")
    }
    urls = {name: reverse(name) for name in VIEWNAMES}
    region_only = {urls["trainees:exam_years"], urls["reports:audit_events"]}
    office = {urls[n] for n in ("reports:dashboard", "institutions:office_list", "reports:lookup")}
    assert region_only | office <= set(seen["region_user"]) and urls["reports:roster_home"] not in seen["region_user"]
    for account in ("wuhan_user", "wuchang_user"):
        assert office <= set(seen[account]) and not region_only & set(seen[account])
    assert seen["staff"] == [urls["trainees:list"], urls["reports:roster_home"], urls["accounts:list"]]
    assert menu_links(render_both(superuser)[1]) == [urls["trainees:list"], urls["accounts:list"]]


def test_the_menu_follows_the_language(world):
    with translation.override("en"):
        english = render_both(world.region_user)[1]
    with translation.override("zh-hans"):
        chinese = render_both(world.region_user)[1]
    assert ">Probation records<" in english and ">Log out<" in english
    assert ">Probation records<" not in chinese and english != chinese


def test_the_account_name_is_escaped(world):
    world.staff.full_name = '<script>alert("x")</script>'
    from_template, from_python = render_both(world.staff)
    assert from_python == from_template
    assert "<script>" not in from_python and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in from_python


def test_without_a_csrf_token_the_logout_form_has_none_as_with_the_template(world):
    html = site_header(Context({"user": world.staff}))
    assert "csrfmiddlewaretoken" not in html and 'class="userbox"' in html
    html = site_header(Context({"user": world.staff, "csrf_token": "NOTPROVIDED"}))
    assert "csrfmiddlewaretoken" not in html


def test_the_menu_links_of_a_page_are_the_reversed_urls(world):
    body = logged_in(world.region_user).get(reverse("trainees:list")).content.decode()
    for viewname in ("trainees:list", "reports:dashboard", "trainees:exam_years", "accounts:sessions"):
        assert f'href="{reverse(viewname)}"' in body


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_language_form_is_the_markup_the_template_wrote(world, language):
    path = '/records/?q=a"b&result=<passed>'
    with translation.override(language):
        from_template, from_python = render_both(world.staff, TEMPLATE_LANGUAGE_FORM, LANGUAGE_FORM, path)
    assert from_python == from_template
    assert 'value="/records/?q=a%22b&amp;result=%3Cpassed%3E"' in from_python
    assert 'name="csrfmiddlewaretoken"' in from_python and from_python.count("<button") == 2


def test_the_language_buttons_name_each_language_in_the_language_shown(world):
    with translation.override("en"):
        english = render_both(world.staff, TEMPLATE_LANGUAGE_FORM, LANGUAGE_FORM)[1]
    with translation.override("zh-hans"):
        chinese = render_both(world.staff, TEMPLATE_LANGUAGE_FORM, LANGUAGE_FORM)[1]
    assert ">Simplified Chinese<" in english and ">简体中文<" in chinese


def test_the_language_form_without_a_request_comes_back_nowhere():
    html = LANGUAGE_FORM.render(Context({}))
    assert 'name="next" type="hidden" value=""' in html and "csrfmiddlewaretoken" not in html
