"""Every URL pattern of the project, for the tests that must cover all of them (abuse, CSRF, safe GETs).

A test walks ``routes()`` and fills each pattern's parameters itself; a pattern it does not know how to fill
makes it fail, so that a new URL is never left out silently.
"""

import re
from dataclasses import dataclass, field

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern

from hbwsrc.admin import site as admin_site


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name", or the pattern itself when unnamed
    pattern: str
    params: tuple[str, ...]
    defaults: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def namespace(self) -> str:
        return self.name.split(":", 1)[0] if ":" in self.name else ""

    @property
    def is_admin(self) -> bool:
        return self.namespace == "admin" or self.pattern.startswith("admin/")

    def url(self, **kwargs) -> str:
        if self.name != self.pattern:
            return reverse(self.name, kwargs=kwargs or None)
        # Unnamed (the admin's redirects and catch-all): fill the pattern text itself.
        text = re.sub(r"\(\?P<url>\.\*\)\$$", "no-such-page/", self.pattern)
        text = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m.group(1)]), text)
        return "/" + text.replace("^", "")


def _params(pattern) -> tuple[str, ...]:
    if isinstance(pattern, RoutePattern):
        return tuple(pattern.converters)
    return tuple(pattern.regex.groupindex)


def routes(patterns=None, prefix: str = "", namespace: str | None = None) -> list[Route]:
    found = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        text = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = entry.namespace if entry.namespace else namespace
            if namespace and entry.namespace:
                inner = f"{namespace}:{entry.namespace}"
            found.extend(routes(entry.url_patterns, text, inner))
        elif isinstance(entry, URLPattern):
            params = _params(entry.pattern)
            parent_params = tuple(re.findall(r"<(?:\w+:)?(\w+)>", prefix))
            name = f"{namespace}:{entry.name}" if namespace and entry.name else (entry.name or text)
            found.append(Route(name, text, parent_params + params, dict(entry.default_args)))
    return found


def admin_kwargs(route: Route) -> dict:
    """Sample values for the admin's parameters (every admin page is refused before it looks at them)."""
    labels = sorted({model._meta.app_label for model in admin_site._registry})
    samples = {
        "object_id": "1",
        "content_type_id": 1,
        "app_label": labels[0] if labels else "auth",
        "url": "x",
        "pk": "1",
        "fmt": "xlsx",  # the record list's export
        "public_id": "00000000-0000-0000-0000-000000000000",  # an import job
    }
    return {name: samples[name] for name in route.params}
