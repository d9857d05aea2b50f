"""Template tags for the site's layout (templates/base.html), loaded as ``{% load layout %}`` (settings.TEMPLATES).

The layout's menu names up to sixteen pages on every page served; ``{% url %}`` reverses each of them on every
request (some 13 microseconds each), though a URL without arguments is the same for every request of a process
that serves under the same script prefix.
"""

import functools

from django import template
from django.urls import get_script_prefix, reverse

register = template.Library()


@functools.cache
def _reversed(viewname: str, script_prefix: str) -> str:
    return reverse(viewname)


@register.simple_tag
def fixed_url(viewname: str) -> str:
    """``{% url viewname %}`` for a URL without arguments, reversed once per process and script prefix."""
    return _reversed(viewname, get_script_prefix())
