import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from hbwsrc import identifiers
from hbwsrc.widgets import DateInput
from institutions.models import Institution, Office
from institutions.scope import MANAGE_OFFICE, scope_for


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)


class OfficeForm(forms.ModelForm):
    class Meta:
        model = Office
        fields = ["name", "kind", "division_code", "contact_person", "contact_phone"]

    def __init__(self, *args, parent: Office, **kwargs):
        super().__init__(*args, **kwargs)
        # The parent comes from the URL, never from the form: set it so model validation sees it.
        self.instance.parent = parent
        self.instance.region_id = parent.region_id
        self.fields["kind"].choices = [c for c in Office.Kind.choices if c[0] != Office.Kind.REGION]


class InstitutionForm(forms.ModelForm):
    class Meta:
        model = Institution
        fields = ["name", "office", "contact_person", "contact_phone"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only offices where the user may place institutions; a forged value fails as an invalid choice.
        self.fields["office"].queryset = scope_for(user).offices(perm=MANAGE_OFFICE)

    def clean(self):
        cleaned = super().clean()
        office = cleaned.get("office")
        if office is not None:
            self.instance.region_id = office.region_id
        return cleaned


# --- the institution's own profile ------------------------------------------------------------------------------

LICENCE_NUMBER_USUAL_LENGTH = 22
MAX_DEPARTMENTS = 100
# Commas (ASCII and full-width), the enumeration comma 、, semicolons (ASCII and full-width), tabs and new lines.
DEPARTMENT_SEPARATORS = re.compile(r"[,，、;；\t\r\n]+")
# WS 218-2002: the category letter followed by three digits, e.g. A100.
CATEGORY_CODE_RE = re.compile(r"[A-Z][0-9]{3}", re.ASCII)
# Control characters (NUL, escape, ...) and the Unicode line and paragraph separators.
_CONTROL_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


def validate_no_control_characters(value: str) -> None:
    """Refuse NUL and other invisible control characters (PostgreSQL cannot even store NUL in text)."""
    bad = next((char for char in value if unicodedata.category(char) in _CONTROL_CATEGORIES), None)
    if bad is not None:
        raise ValidationError(
            _("Remove the invisible control character %(char)s: it is not allowed here."),
            code="control_character",
            params={"char": f"U+{ord(bad):04X}"},
        )


class ProfileTextField(forms.CharField):
    """A stripped text field that refuses control characters with one clear error."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # validate() below reports NUL along with every other control character.
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]

    def validate(self, value):
        super().validate(value)
        if value:
            validate_no_control_characters(value)


class NormalizedCodeField(ProfileTextField):
    """A code typed in any width or case: full-width characters, spaces and lowercase are normalized first."""

    def to_python(self, value):
        value = super().to_python(value)
        return identifiers.normalize_identifier(value) if value else value

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        # Leave room for the spaces people type between groups; the length is checked after normalizing.
        if self.max_length is not None:
            attrs["maxlength"] = str(self.max_length * 2)
        return attrs


class USCCField(NormalizedCodeField):
    default_validators = [identifiers.validate_uscc]


class DepartmentsField(forms.Field):
    """The registered departments (诊疗科目) typed as text: one per line or separated by commas, 、 or semicolons.

    Cleans to a list without blanks or repeats, in the order typed.
    """

    widget = forms.Textarea(attrs={"rows": 4})

    def __init__(self, *, max_length: int, max_entries: int = MAX_DEPARTMENTS, **kwargs):
        self.max_length = max_length
        self.max_entries = max_entries
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, (list, tuple)):
            return "\n".join(value)
        return value

    def to_python(self, value):
        if value in self.empty_values:
            return []
        if isinstance(value, (list, tuple)):
            entries = [str(entry) for entry in value]
        else:
            entries = DEPARTMENT_SEPARATORS.split(str(value))
        entries = list(dict.fromkeys(entry.strip() for entry in entries if entry.strip()))
        return entries

    def validate(self, value):
        super().validate(value)
        for entry in value:
            validate_no_control_characters(entry)
            if len(entry) > self.max_length:
                raise ValidationError(
                    _("The department “%(entry)s” is %(length)s characters long; at most %(max)s are allowed."),
                    code="department_too_long",
                    params={
                        "entry": Truncator(entry).chars(20),
                        "length": len(entry),
                        "max": self.max_length,
                    },
                )
        if len(value) > self.max_entries:
            raise ValidationError(
                _("%(count)s departments were given; at most %(max)s are allowed."),
                code="too_many_departments",
                params={"count": len(value), "max": self.max_entries},
            )

    def has_changed(self, initial, data):
        try:
            return self.to_python(data) != list(initial or [])
        except ValidationError:
            return True


class ProfileForm(forms.ModelForm):
    """The institution's own profile. Every field is optional: a partial profile may be saved, and the profile is
    complete once every field of ``PROFILE_REQUIRED_FIELDS`` is filled.

    Two things are warnings, not errors, after saving (``warnings``): a licence number that is not 22 characters
    long, and a licence validity date in the past.
    """

    departments = DepartmentsField(
        label=Institution._meta.get_field("departments").verbose_name,
        max_length=Institution._meta.get_field("departments").base_field.max_length,
        required=False,
        help_text=_("One per line, or separated by commas, 、 or semicolons."),
    )

    class Meta:
        model = Institution
        fields = [
            "uscc",
            "licence_number",
            "licence_valid_until",
            "category",
            "category_code",
            "level",
            "grade",
            "ownership",
            "profit_status",
            "address",
            "head_name",
            "contact_person",
            "contact_phone",
            "departments",
        ]
        field_classes = {
            "uscc": USCCField,
            "category_code": NormalizedCodeField,
            "licence_number": ProfileTextField,
            "address": ProfileTextField,
            "head_name": ProfileTextField,
            "contact_person": ProfileTextField,
            "contact_phone": ProfileTextField,
        }
        widgets = {"licence_valid_until": DateInput()}

    def clean_uscc(self):
        uscc = self.cleaned_data["uscc"]
        # Checked here so the error sits on the field; the database constraint stays the last word.
        if uscc and Institution.objects.filter(uscc=uscc).exclude(pk=self.instance.pk).exists():
            constraint = next(c for c in Institution._meta.constraints if c.name == "institution_unique_uscc")
            raise ValidationError(constraint.violation_error_message, code="unique")
        return uscc

    def clean_category_code(self):
        code = self.cleaned_data["category_code"]
        if not code:
            return code
        if not CATEGORY_CODE_RE.fullmatch(code):
            raise ValidationError(
                _("A category code is the category letter followed by three digits, e.g. A100."),
                code="category_code_format",
            )
        if "category" not in self.cleaned_data:
            return code  # the category itself is invalid and already has an error
        category = self.cleaned_data["category"]
        if not category:
            raise ValidationError(
                _("Choose the institution category that the code %(code)s belongs to."),
                code="category_code_without_category",
                params={"code": code},
            )
        if code[0] != category:
            raise ValidationError(
                _("The category code %(code)s does not belong to the chosen category %(category)s."),
                code="category_code_mismatch",
                params={"code": code, "category": Institution.Category(category).label},
            )
        return code

    @property
    def licence_warning(self) -> str | None:
        number = getattr(self, "cleaned_data", {}).get("licence_number")
        if number and len(number) != LICENCE_NUMBER_USUAL_LENGTH:
            return _(
                "The licence registration number %(number)s has %(length)s characters, not the usual %(usual)s. "
                "It was saved as typed: please check it against the licence."
            ) % {"number": number, "length": len(number), "usual": LICENCE_NUMBER_USUAL_LENGTH}
        return None

    @property
    def validity_warning(self) -> str | None:
        valid_until = getattr(self, "cleaned_data", {}).get("licence_valid_until")
        if valid_until and valid_until < timezone.localdate():
            return _("The practising licence expired on %(date)s.") % {"date": valid_until.isoformat()}
        return None

    @property
    def warnings(self) -> list[str]:
        return [warning for warning in (self.licence_warning, self.validity_warning) if warning]
