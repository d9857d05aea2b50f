"""Template tags for the site's layout (templates/base.html), loaded as ``{% load layout %}`` (settings.TEMPLATES).

The layout's header names up to sixteen pages on every page served. Through the template language each link is a
``{% url %}`` (some 13 microseconds) and a ``{% translate %}`` (some 20), and the header cost about 0.6 ms of every
page. Its links are the same for every account of a kind, in a language, under a script prefix: ``site_header``
writes them once per process for each such combination, and only the account's name and the logout form's CSRF
token on each request. The footer's language switch likewise (``language_form``): its buttons once per language.
"""

import functools

from django import template
from django.conf import settings
from django.urls import get_script_prefix, reverse
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from hbwsrc.markup import escape, format_markup

register = template.Library()

# Who sees a menu entry: every account, accounts of an institution, of an office, of a region's own office.
EVERYONE, INSTITUTION, OFFICE, REGION_OFFICE = "everyone", "institution", "office", "region office"

MENU = (
    (_("Probation records"), "trainees:list", EVERYONE),
    (_("Roster filing"), "reports:roster_home", INSTITUTION),
    (_("Dashboard"), "reports:dashboard", OFFICE),
    (_("Offices"), "institutions:office_list", OFFICE),
    (_("Institutions"), "institutions:institution_list", OFFICE),
    (_("Roster filings"), "reports:filing_list", OFFICE),
    (_("Eligibility lookup"), "reports:lookup", OFFICE),
    (_("Overlap conflicts"), "trainees:conflicts", OFFICE),
    (_("Exam years"), "trainees:exam_years", REGION_OFFICE),
    (_("Audit trail"), "reports:audit_events", REGION_OFFICE),
    (_("Accounts"), "accounts:list", EVERYONE),
)
ACCOUNT_LINKS = (
    (_("Change password"), "accounts:password_change"),
    (_("Two-factor"), "accounts:two_factor"),
    (_("My sessions"), "accounts:sessions"),
)


@functools.cache
def _reversed(viewname: str, script_prefix: str) -> str:
    """``reverse(viewname)`` for a URL without arguments, reversed once per process and script prefix."""
    return reverse(viewname)


def _audiences(user) -> frozenset:
    """The menu entries' audiences ``user`` belongs to."""
    audiences = {EVERYONE}
    if user.institution_id:
        audiences.add(INSTITUTION)
    if user.office_id:
        audiences.add(OFFICE)
        if not user.office.parent_id:
            audiences.add(REGION_OFFICE)
    return frozenset(audiences)


def _link(label, viewname: str, script_prefix: str) -> str:
    return format_markup('<a href="{}">{}</a>', _reversed(viewname, script_prefix), label)


@functools.cache
def _header_parts(language: str, script_prefix: str, audiences: frozenset | None) -> tuple[str, str, str]:
    """The header's markup that is the same for every account seeing ``audiences`` (None: no account), in
    ``language``: what comes before the account's name, between it and the CSRF token, and after the token."""
    brand = format_markup(
        '<a class="brand" href="{}">{}</a>', _reversed("home", script_prefix), _("Physician exam probation platform")
    )
    if audiences is None:
        return brand, "", ""
    menu = "\n    ".join(_link(label, name, script_prefix) for label, name, who in MENU if who in audiences)
    links = "\n    ".join(_link(label, name, script_prefix) for label, name in ACCOUNT_LINKS)
    logout = _reversed("accounts:logout", script_prefix)
    return (
        f'{brand}\n  <nav class="mainnav">\n    {menu}\n  </nav>\n  <div class="userbox">\n    <span>',
        f'</span>\n    {links}\n    <form method="post" action="{escape(logout)}" class="inline">',
        f'<button type="submit" class="link">{escape(_("Log out"))}</button></form>\n  </div>',
    )


@register.simple_tag(takes_context=True)
def site_header(context) -> SafeString:
    """The inside of the layout's <header>: the site's name, and for an account its menu, its name and office or
    institution, its own pages and the logout button."""
    user = context.get("user")
    signed_in = user is not None and user.is_authenticated
    before, between, after = _header_parts(
        get_language(), get_script_prefix(), _audiences(user) if signed_in else None
    )
    if not signed_in:
        return SafeString(before)
    name = escape(user.full_name or user.username)
    return SafeString(f"{before}{name} · {escape(user.node or '')}{between}{_csrf_input(context)}{after}")


def _csrf_input(context) -> str:
    """``{% csrf_token %}``."""
    token = context.get("csrf_token")
    if not token or token == "NOTPROVIDED":
        return ""
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(token)}">'


@functools.cache
def _language_buttons(language: str) -> str:
    """The buttons, each language named in ``language`` (the active one: the names are lazily translated)."""
    return "".join(
        f'<button type="submit" name="language" value="{escape(code)}" class="link">{escape(name)}</button>'
        for code, name in settings.LANGUAGES
    )


@register.simple_tag(takes_context=True)
def language_form(context) -> SafeString:
    """The layout's language switch: a button per language (each named in the language shown), posted to Django's
    set_language with the page to come back to."""
    action = _reversed("set_language", get_script_prefix())
    request = context.get("request")  # none when a page is rendered without one (the 500 page)
    next_page = escape(request.get_full_path()) if request else ""
    return SafeString(
        f'<form action="{escape(action)}" method="post" class="inline">{_csrf_input(context)}\n'
        f'    <input name="next" type="hidden" value="{next_page}">\n'
        f"    {_language_buttons(get_language())}\n  </form>"
    )
