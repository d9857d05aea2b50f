"""hbwsrc.markup writes what django.utils.html's format_html and format_html_join write, and the URLs reverse gives."""

import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy, override

from hbwsrc.markup import escape, format_markup, join_markup, url_maker

VALUES = [
    '<script>alert("x")</script>',
    "a & b 'quoted'",
    "张三",
    mark_safe("<b>kept</b>"),
    gettext_lazy("Log out"),
    42,
    None,
    datetime.date(2026, 3, 1),
    "",
]


@pytest.mark.parametrize("value", VALUES)
def test_each_value_escaped_as_format_html_escapes_it(value):
    with override("zh-hans"):
        assert format_markup("<td>{}</td>", value) == format_html("<td>{}</td>", value)
        assert escape(value) == format_html("{}", value)


def test_the_result_is_safe_and_rows_join_as_format_html_join():
    rows = [(value, index) for index, value in enumerate(VALUES)]
    written = join_markup("\n", '<tr class="{}"><td>{}</td></tr>', rows)
    assert isinstance(written, SafeString)
    assert written == format_html_join("\n", '<tr class="{}"><td>{}</td></tr>', rows)
    assert "<script>" not in written and "<b>kept</b>" in written


def test_url_maker_gives_what_reverse_gives():
    record_url = url_maker("trainees:detail")
    for public_id in (uuid.uuid4(), uuid.uuid4()):
        assert record_url(public_id) == reverse("trainees:detail", args=[public_id])


def test_url_maker_refuses_a_placeholder_the_url_quotes():
    assert url_maker("reports:verify_code", "ABC")("XYZ") == reverse("reports:verify_code", args=["XYZ"])
    with pytest.raises(ValueError):
        url_maker("reports:verify_code", "a b")  # written a%20b
