from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import SafeString, mark_safe

from hbwsrc.markup import escape, format_markup


class DateInput(forms.DateInput):
    """A browser date picker. Browsers only accept ISO dates in <input type=date>, whatever the language."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"
# Django's widget templates that are nothing but an include of input.html.
INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in (
        "input", "text", "number", "email", "url", "password", "hidden", "date", "datetime", "time", "checkbox",
        "search", "tel", "color", "file",
    )
)  # fmt: skip
TEXTAREA_TEMPLATE = "django/forms/widgets/textarea.html"
LABEL_TEMPLATE = "django/forms/label.html"
# A field with its label, help text and errors: {{ field.as_field_group }} (the site's forms, templates/_form.html).
FIELD_TEMPLATE = "_field.html"


NO_ATTRIBUTES = SafeString("")


def _attributes(attrs: dict) -> str:
    """Django's widgets/attrs.html: True gives a bare attribute, False none."""
    if not attrs:  # most options: no markup to build
        return NO_ATTRIBUTES
    return mark_safe(
        "".join(
            format_markup(" {}", name) if value is True else format_markup(' {}="{}"', name, value)
            for name, value in attrs.items()
            if value is not False
        )
    )


def _input(widget: dict) -> str:
    value = "" if widget["value"] is None else format_markup(' value="{}"', widget["value"])
    return format_markup(
        '<input type="{}" name="{}"{}{}>', widget["type"], widget["name"], value, _attributes(widget["attrs"])
    )


def _textarea(widget: dict) -> str:
    return format_markup(
        '<textarea name="{}"{}>\n{}</textarea>', widget["name"], _attributes(widget["attrs"]), widget["value"] or ""
    )


def _label(context: dict) -> str:
    if not context["use_tag"]:
        return escape(context["label"])
    tag = context["tag"]  # attrs is None where the widget has no single element to point at (radio buttons)
    return format_markup("<{}{}>{}</{}>", tag, _attributes(context["attrs"] or {}), context["label"], tag)


def _field_group(field) -> str:
    """templates/_field.html."""
    errors = field.errors
    help_text = format_markup('<small class="help">{}</small>', field.help_text) if field.help_text else ""
    return format_markup(
        '<div class="field{}">\n  {} {}\n  {}\n  {}\n</div>\n',
        " has-error" if errors else "",
        field.label_tag(),
        field,  # {{ field }}: the widget, with its hidden initial value where the field shows one
        help_text,
        mark_safe("".join(format_markup('<div class="error">{}</div>', error) for error in errors)),
    )


def _select(widget: dict) -> str:
    groups = (
        (group_name, ((option["value"], option["label"], option["attrs"]) for option in options))
        for group_name, options, _index in widget["optgroups"]
    )
    return _select_markup(widget["name"], widget["attrs"], groups)


def _select_markup(name, attrs: dict, groups) -> str:
    """Django's select.html and select_option.html; ``groups``: (group name or None, (value, label, attrs) ...)."""
    written = []
    for group_name, options in groups:
        rendered = "".join(
            f'<option value="{escape(value)}"{_attributes(option_attrs)}>{escape(label)}</option>'
            for value, label, option_attrs in options
        )
        written.append(f'<optgroup label="{escape(group_name)}">{rendered}</optgroup>' if group_name else rendered)
    return format_markup('<select name="{}"{}>{}</select>', name, _attributes(attrs), mark_safe("".join(written)))


SELECTED = {"selected": True}
NOT_SELECTED = {}


class Select(forms.Select):
    """A select written straight from its choices, skipping the dictionary Django builds for each option.

    The same markup as FormRenderer's selects (Django's templates without the whitespace between options). For the
    pages every account opens many times a day: the record list's filters (a region office's some 120 sub-offices)
    and the record form (the exam categories).
    """

    def render(self, name, value, attrs=None, renderer=None):
        values = self.format_value(value)
        has_selected = False

        def options(choices):
            nonlocal has_selected
            for option_value, label in choices:
                selected = not has_selected and str(option_value) in values
                has_selected |= selected
                yield option_value, label, SELECTED if selected else NOT_SELECTED

        def groups():
            ungrouped = []  # consecutive options outside any optgroup, written as one run
            for option_value, label in self.choices:
                if isinstance(label, (list, tuple)):
                    if ungrouped:
                        yield None, options(ungrouped)
                        ungrouped = []
                    yield option_value, options(label)
                else:
                    ungrouped.append(("" if option_value is None else option_value, label))
            if ungrouped:
                yield None, options(ungrouped)

        return _select_markup(name, self.build_attrs(self.attrs, attrs), groups())


class FormRenderer(DjangoTemplates):
    """Django's form renderer, but fields (templates/_field.html: label, widget, help text, errors), labels and the
    plain widgets (inputs, text areas, selects) are written in Python.

    Through the templates every widget is two or three includes and every <option> one more: the 27 exam
    categories alone cost more than the rest of the record form, and the record form's 22 fields cost more than
    the rest of its page. The markup is the same as Django's templates (input.html, textarea.html, select.html,
    select_option.html, label.html and their attrs.html), without the whitespace between options; anything else
    (a custom option template, radio buttons, the form layouts) still goes through the templates.
    """

    field_template_name = FIELD_TEMPLATE

    def render(self, template_name, context, request=None):
        if template_name == FIELD_TEMPLATE:
            return _field_group(context["field"])
        if template_name == LABEL_TEMPLATE:
            return _label(context)
        widget = context.get("widget")
        if template_name in INPUT_TEMPLATES:
            return _input(widget)
        if template_name == TEXTAREA_TEMPLATE:
            return _textarea(widget)
        if template_name == SELECT_TEMPLATE and all(
            option["template_name"] == OPTION_TEMPLATE
            for _name, options, _index in widget["optgroups"]
            for option in options
        ):
            return _select(widget)
        return super().render(template_name, context, request)
