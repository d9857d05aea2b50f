from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.html import format_html
from django.utils.safestring import mark_safe


class DateInput(forms.DateInput):
    """A browser date picker. Browsers only accept ISO dates in <input type=date>, whatever the language."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"


def _attributes(attrs: dict) -> str:
    """Django's widgets/attrs.html: True gives a bare attribute, False none."""
    return mark_safe(
        "".join(
            format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
            for name, value in attrs.items()
            if value is not False
        )
    )


def _select(widget: dict) -> str:
    groups = []
    for group_name, options, _index in widget["optgroups"]:
        rendered = mark_safe(
            "".join(
                format_html(
                    '<option value="{}"{}>{}</option>', option["value"], _attributes(option["attrs"]), option["label"]
                )
                for option in options
            )
        )
        groups.append(
            format_html('<optgroup label="{}">{}</optgroup>', group_name, rendered) if group_name else rendered
        )
    return format_html(
        '<select name="{}"{}>{}</select>', widget["name"], _attributes(widget["attrs"]), mark_safe("".join(groups))
    )


class FormRenderer(DjangoTemplates):
    """Django's form renderer, but a <select> is written in Python: through the templates every option is an
    include of its own, and the 27 exam categories cost more than the rest of the record form (the markup is the
    same as Django's select.html and select_option.html, without their whitespace)."""

    def render(self, template_name, context, request=None):
        widget = context.get("widget")
        if template_name == SELECT_TEMPLATE and all(
            option["template_name"] == OPTION_TEMPLATE
            for _name, options, _index in widget["optgroups"]
            for option in options
        ):
            return _select(widget)
        return super().render(template_name, context, request)
