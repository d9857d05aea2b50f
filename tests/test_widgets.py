"""The form renderer writes labels and plain widgets in Python: the same markup as Django's templates, escaped the
same way."""

import datetime
import re

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.template.loader import get_template
from django.urls import reverse

from hbwsrc.widgets import DateInput, FormRenderer, Select
from institutions.models import Office
from tests.markup_helpers import squeeze
from trainees.forms import RecordForm

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
    assert squeeze(rendered) == squeeze(expected)
    assert "&lt;b&gt;" in rendered or "<b>" not in expected


@pytest.mark.parametrize(
    "value", ["110", "<x>", "2", "", None, 110, "missing", ["1", "2"]]
)
@pytest.mark.parametrize("attrs", [{}, {"class": "x", "disabled": True, "data-n": 3, "hidden": False}])
def test_select_written_from_its_choices_matches_djangos_templates(value, attrs):
    """hbwsrc.widgets.Select skips Django's per-option dictionaries; the markup, the escaping and which option is
    selected (the first matching one only) stay those of Django's templates."""
    choices = [*CHOICES, (None, "none"), (2, "number two")]
    expected = forms.Select(choices=choices, attrs=attrs).render("f", value, {"id": "id_f"}, DjangoTemplates())
    rendered = Select(choices=choices, attrs=attrs).render("f", value, {"id": "id_f"}, DjangoTemplates())
    assert rendered == squeeze(expected)
    assert "<b>" not in rendered


def test_select_of_model_choices_matches_djangos_templates(rworld):
    offices = Office.objects.filter(region=rworld.world.hubei).order_by("path")
    field = forms.ModelChoiceField(queryset=offices, widget=Select)
    chosen = offices[1]
    expected = forms.Select(choices=field.choices).render("office", chosen.pk, renderer=DjangoTemplates())
    rendered = field.widget.render("office", chosen.pk)
    assert rendered == squeeze(expected)
    assert f'<option value="{chosen.pk}" selected>' in rendered


def test_a_custom_option_template_still_goes_through_the_templates():
    class Custom(forms.Select):
        option_template_name = "django/forms/widgets/input_option.html"

    rendered = Custom(choices=[("1", "one")]).render("f", "1", renderer=FormRenderer())
    assert "<input" in rendered


@pytest.mark.parametrize(
    "widget, value",
    [
        (forms.TextInput(), 'a "quoted" & <b>value</b>'),
        (forms.TextInput(attrs={"placeholder": "姓名 <x>", "maxlength": 50, "autofocus": True, "hidden": False}), ""),
        (forms.TextInput(), None),
        (forms.NumberInput(), 3),
        (forms.EmailInput(), "a@b.cn"),
        (forms.PasswordInput(render_value=True), "secret&"),
        (forms.HiddenInput(), "42"),
        (DateInput(), datetime.date(2026, 3, 1)),
        (forms.CheckboxInput(), True),
        (forms.CheckboxInput(), False),
        (forms.SearchInput(), "张三"),
        (forms.Textarea(attrs={"rows": 3}), "first line\n<second> & third"),
        (forms.Textarea(), ""),
        (forms.Textarea(), None),
    ],
)
def test_input_and_textarea_markup_matches_djangos_templates(widget, value):
    attrs = {"id": "id_field", "required": True}
    expected = widget.render("field", value, attrs, renderer=DjangoTemplates())
    rendered = widget.render("field", value, attrs, renderer=FormRenderer())
    assert rendered == expected.strip()


class _LabelForm(forms.Form):
    name = forms.CharField(label="姓名 <b>")
    note = forms.CharField(label="备注", required=False, widget=forms.Textarea)
    kind = forms.ChoiceField(label="类型", choices=[("a", "A")], widget=forms.RadioSelect)


@pytest.mark.parametrize("auto_id", ["id_%s", False])
@pytest.mark.parametrize("method, kwargs", [
    ("label_tag", {}),
    ("label_tag", {"attrs": {"class": "x", "data-n": 2}, "label_suffix": "："}),
    ("legend_tag", {}),
])  # fmt: skip
def test_label_markup_matches_djangos_template(auto_id, method, kwargs):
    expected = _LabelForm(auto_id=auto_id, renderer=DjangoTemplates())
    rendered = _LabelForm(auto_id=auto_id, renderer=FormRenderer())
    for name in ("name", "note", "kind"):
        assert getattr(rendered[name], method)(**kwargs) == getattr(expected[name], method)(**kwargs).strip()


def test_record_form_renders_as_through_djangos_templates(rworld):
    """The whole record form, every field with its label and errors, gives the same markup either way."""

    def page(renderer):
        data = {"name": "<张三>", "id_number": "x&y", "content": "a\nb", "is_fresh_graduate": "on"}
        form = RecordForm(data=data, institution=rworld.world.wuchang_hospital, renderer=renderer)
        return squeeze("".join(f"{form[name].label_tag()}{form[name]}" for name in form.fields))

    rendered = page(FormRenderer())
    assert rendered == page(DjangoTemplates())
    assert all(tag in rendered for tag in ("<textarea", '<input type="checkbox"', '<input type="date"', "<label"))


def test_the_record_lists_sub_office_filter_offers_the_accounts_offices_only(rworld):
    """Its options come from the cache (trainees.options.office_rows): still exactly the account's offices in
    tree order, the chosen one selected; an office outside them is refused, not used."""
    world = rworld.world
    client = world.client_for(world.wuhan_user)
    page = client.get(reverse("trainees:list"), {"office": world.wuchang.pk}).content.decode()
    select = re.search(r'<select name="office".*?</select>', page, re.S).group(0)
    offered = re.findall(r'<option value="(\d*)"( selected)?>([^<]*)</option>', select)
    in_tree_order = Office.objects.filter(path__startswith=world.wuhan.path).order_by("path")
    assert offered == [("", "", "---------")] + [
        (str(office.pk), " selected" if office == world.wuchang else "", office.name) for office in in_tree_order
    ]
    refused = client.get(reverse("trainees:list"), {"office": world.yichang.pk})
    assert "office" in refused.context["form"].errors


class _FieldGroupForm(forms.Form):
    name = forms.CharField(label="姓名", help_text="帮助 <b>&</b>", max_length=3)
    note = forms.CharField(label="备注", required=False, widget=forms.Textarea)
    kind = forms.ChoiceField(label="类型", choices=[("a", "A <i>")], widget=forms.RadioSelect)
    since = forms.DateField(label="日期", show_hidden_initial=True, initial=datetime.date(2026, 1, 2))

    def clean(self):
        self.add_error("name", "另一个 <错误> & 第二条")
        return super().clean()


@pytest.mark.parametrize("data", [None, {"name": "太长的名字 <x>", "kind": "z", "since": "not a date"}])
def test_a_field_group_is_the_markup_of_templates_field_html(data):
    """FormRenderer writes {{ field.as_field_group }} in Python: the same markup as templates/_field.html, with a
    field's help text and every error escaped."""
    form = _FieldGroupForm(data=data, renderer=FormRenderer())
    template = get_template("_field.html")
    for name in form.fields:
        assert form[name].as_field_group() == template.render({"field": form[name]})
    if data:
        name = form["name"].as_field_group()
        assert 'class="field has-error"' in name and name.count('<div class="error">') == 2
        assert "&lt;错误&gt; &amp; 第二条" in name and "帮助 &lt;b&gt;&amp;&lt;/b&gt;" in name


def test_the_record_forms_fields_are_grouped_in_python(rworld):
    form = RecordForm(data={"name": "<张三>"}, institution=rworld.world.wuchang_hospital, renderer=FormRenderer())
    group = form["name"].as_field_group()
    assert group.startswith('<div class="field">') and "&lt;张三&gt;" in group
    assert form["id_number"].as_field_group().startswith('<div class="field has-error">')
