"""Comparing markup written in Python with the templates it replaced: whitespace between tags does not count."""

import re


def squeeze(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


def table_body(response) -> str:
    """The first table body of a page, squeezed."""
    return squeeze(re.search(r"<tbody>(.*?)</tbody>", response.content.decode(), re.S).group(1))
