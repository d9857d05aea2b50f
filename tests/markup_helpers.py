"""Comparing markup written in Python with the templates it replaced: whitespace between tags does not count."""

import re


def squeeze(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


def table_body(response) -> str:
    """The first table body of a page, squeezed."""
    return squeeze(re.search(r"<tbody>(.*?)</tbody>", response.content.decode(), re.S).group(1))


def instances(queryset, rows) -> list:
    """The model instances of a page's rows (dicts with their public_id), in the rows' order: what the templates
    the rows' writers replaced were given."""
    by_public_id = queryset.in_bulk([row["public_id"] for row in rows], field_name="public_id")
    return [by_public_id[row["public_id"]] for row in rows]
