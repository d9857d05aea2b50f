"""The form renderer writes <select> in Python: the same markup as Django's templates, escaped the same way."""

import re

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates

from hbwsrc.widgets import FormRenderer


def _squeeze(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


CHOICES = [
    ("", "---------"),
    ("110", "临床执业医师"),
    ("<x>", 'a "quoted" & <b>label</b>'),
    ("组", [("1", "一"), ("2", "二")]),
]


@pytest.mark.parametrize(
    "widget, value",
    [
        (forms.Select(choices=CHOICES), "110"),
        (forms.Select(choices=CHOICES, attrs={"class": "x", "disabled": True, "data-n": 3, "hidden": False}), "<x>"),
        (forms.Select(choices=CHOICES), "2"),
        (forms.SelectMultiple(choices=CHOICES), ["1", "110"]),
        (forms.NullBooleanSelect(), True),
    ],
)
def test_select_markup_matches_djangos_templates(widget, value):
    attrs = {"id": "id_field", "required": True}
    expected = widget.render("field", value, attrs, renderer=DjangoTemplates())
    rendered = widget.render("field", value, attrs, renderer=FormRenderer())
    assert _squeeze(rendered) == _squeeze(expected)
    assert "&lt;b&gt;" in rendered or "<b>" not in expected


def test_a_custom_option_template_still_goes_through_the_templates():
    class Custom(forms.Select):
        option_template_name = "django/forms/widgets/input_option.html"

    rendered = Custom(choices=[("1", "one")]).render("f", "1", renderer=FormRenderer())
    assert "<input" in rendered
