"""The record form: the single validation path for probation records, used by the web form and the importer."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hbwsrc import identifiers
from hbwsrc.widgets import DateInput, Select
from trainees import options
from trainees.models import Eligibility, ExamCategory, ExamYear, IdType, Person, ProbationRecord

PERSON_FIELDS = (
    "id_type",
    "id_number",
    "name",
    "sex",
    "birth_date",
    "education",
    "school",
    "major",
    "graduation_date",
)
RECORD_FIELDS = (
    "exam_year",
    "category",
    "is_fresh_graduate",
    "departments",
    "content",
    "supervisor_name",
    "supervisor_licence",
    "start_date",
    "end_date",
    "result",
    "assessed_on",
    "assessor",
    "remarks",
)
MINIMUM_AGE = 16


def sixteenth_birthday(birth_date: datetime.date) -> datetime.date:
    try:
        return birth_date.replace(year=birth_date.year + MINIMUM_AGE)
    except ValueError:  # born on 29 February
        return datetime.date(birth_date.year + MINIMUM_AGE, 3, 1)


def _clean_text(value: str) -> str:
    """Collapse surrounding whitespace and refuse control characters (NUL and friends) in free text."""
    value = value.strip()
    if any(ord(c) < 32 and c not in "\n\r\t" for c in value):
        raise forms.ValidationError(_("The text contains control characters."), code="control")
    return value


class PersonForm(forms.ModelForm):
    class Meta:
        model = Person
        fields = PERSON_FIELDS
        widgets = {
            "birth_date": DateInput(),
            "graduation_date": DateInput(),
        }


def record_choice_querysets(institution) -> dict:
    """What a record may point to: the current exam year of the institution's region, the active categories."""
    return {
        "exam_year": ExamYear.objects.filter(region_id=institution.region_id, is_current=True),
        "category": ExamCategory.objects.filter(is_active=True),
    }


class RecordForm(forms.ModelForm):
    """A probation record with its person. The institution comes from the account, never from the form."""

    id_type = forms.ChoiceField(
        label=_("ID document type"), choices=IdType.choices, initial=IdType.RESIDENT, widget=Select
    )
    id_number = forms.CharField(label=_("ID number"), max_length=40)
    name = forms.CharField(label=_("name"), max_length=50)
    sex = Person._meta.get_field("sex").formfield(widget=Select)
    birth_date = forms.DateField(label=_("birth date"), widget=DateInput())
    education = Person._meta.get_field("education").formfield(widget=Select)
    school = forms.CharField(label=_("school"), max_length=100)
    major = forms.CharField(label=_("major"), max_length=100)
    graduation_date = forms.DateField(label=_("graduation date"), required=False, widget=DateInput())

    class Meta:
        model = ProbationRecord
        fields = RECORD_FIELDS
        widgets = {
            "exam_year": Select,
            "category": Select,
            "result": Select,
            "start_date": DateInput(),
            "end_date": DateInput(),
            "assessed_on": DateInput(),
            "content": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, institution, **kwargs):
        super().__init__(*args, **kwargs)
        self.institution = institution
        self.instance.institution = institution
        self.person = None  # the existing person matched by ID, if any
        self.overlap = None  # the other institution's record this one would overlap, if any
        for name, queryset in self.choice_querysets().items():
            self.fields[name].queryset = queryset
        self.offer_options()
        if self.instance.pk:
            person = self.instance.person
            for name in PERSON_FIELDS:
                self.initial.setdefault(name, getattr(person, name))
            # A wrong ID is corrected by withdrawing the record and entering it again, never by editing it.
            self.fields["id_type"].disabled = True
            self.fields["id_number"].disabled = True
            self.fields["exam_year"].disabled = True

    def choice_querysets(self) -> dict:
        return record_choice_querysets(self.institution)

    def offer_options(self):
        """The exam year and category selects list the kept options (trainees.options) that record_choice_querysets
        admits, without reading those querysets; ``exam_years`` tells the page whether a year is open for entry."""
        self.exam_years = options.exam_year_options({self.institution.region_id}, current_only=True)
        options.offer(self.fields["exam_year"], self.exam_years)
        options.offer(self.fields["category"], options.category_options(active_only=True))

    # --- fields ----------------------------------------------------------------------------------------------

    def clean_id_number(self):
        value = identifiers.normalize_identifier(self.cleaned_data["id_number"])
        id_type = self.cleaned_data.get("id_type")
        if id_type:
            identifiers.validate_id_number(id_type, value)
        return value

    def clean_name(self):
        return _clean_text(self.cleaned_data["name"])

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The birth date is in the future."), code="future")
        return value

    def clean_supervisor_licence(self):
        value = identifiers.normalize_identifier(self.cleaned_data["supervisor_licence"])
        if not 6 <= len(value) <= 30:
            raise forms.ValidationError(
                _("A practising certificate number has 6 to 30 characters."), code="supervisor_licence"
            )
        return value

    def clean_exam_year(self):
        exam_year = self.cleaned_data["exam_year"]
        if not exam_year.accepts_entries():
            raise forms.ValidationError(
                _("Records for the %(year)s exam can be entered from %(opens)s to %(closes)s."),
                code="entry_closed",
                params={"year": exam_year.year, "opens": exam_year.entry_opens, "closes": exam_year.entry_closes},
            )
        return exam_year

    def _clean_fields(self):
        super()._clean_fields()
        for name in ("school", "major", "departments", "content", "supervisor_name", "assessor", "remarks"):
            if name in self.cleaned_data and isinstance(self.cleaned_data[name], str):
                try:
                    self.cleaned_data[name] = _clean_text(self.cleaned_data[name])
                except forms.ValidationError as error:
                    self.add_error(name, error)

    # --- the whole record ------------------------------------------------------------------------------------

    def clean(self):
        cleaned = super().clean()
        self._check_person(cleaned)
        self._check_period(cleaned)
        self._check_result(cleaned)
        if not self.errors:
            self._check_overlap(cleaned)
        return cleaned

    def _check_person(self, cleaned):
        id_type, number = cleaned.get("id_type"), cleaned.get("id_number")
        if not (id_type and number):
            return
        if id_type in identifiers.RESIDENT_ID_TYPES:
            if cleaned.get("sex") and cleaned["sex"] != identifiers.resident_id_sex(number):
                self.add_error("sex", _("The sex does not agree with the ID number."))
            if cleaned.get("birth_date") and cleaned["birth_date"] != identifiers.resident_id_birth_date(number):
                self.add_error("birth_date", _("The birth date does not agree with the ID number."))
        self.person = self.find_person(id_type, number)
        if self.person and cleaned.get("name") and cleaned["name"] != self.person.name:
            self.add_error(
                "name",
                _("This ID number is registered under another name. Check the ID number and the name."),
            )

    def _check_period(self, cleaned):
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        birth, exam_year = cleaned.get("birth_date"), cleaned.get("exam_year")
        if start and end and end <= start:
            self.add_error("end_date", _("The end date must be after the start date."))
        if start and birth and start < sixteenth_birthday(birth):
            self.add_error("start_date", _("Probation cannot start before the trainee's 16th birthday."))
        if exam_year and end and end > exam_year.cutoff:
            self.add_error(
                "end_date",
                _("Probation for the %(year)s exam must end by the cut-off date %(cutoff)s.")
                % {"year": exam_year.year, "cutoff": exam_year.cutoff},
            )
        if exam_year and start and start > exam_year.cutoff:
            self.add_error("start_date", _("The start date is after this exam year's cut-off."))

    def _check_result(self, cleaned):
        result, assessed_on = cleaned.get("result"), cleaned.get("assessed_on")
        if result and result != ProbationRecord.Result.IN_PROGRESS:
            if not cleaned.get("end_date"):
                self.add_error("end_date", _("An assessed probation needs its end date."))
            if not assessed_on:
                self.add_error("assessed_on", _("Enter the assessment date."))
        if assessed_on:
            if assessed_on > timezone.localdate():
                self.add_error("assessed_on", _("The assessment date is in the future."))
            if cleaned.get("start_date") and assessed_on < cleaned["start_date"]:
                self.add_error("assessed_on", _("The assessment date is before the start date."))

    def _check_overlap(self, cleaned):
        from trainees.actions import overlap_message

        if self.person is None or not cleaned.get("start_date"):
            return
        self.overlap = self.find_overlap(self.person, cleaned["start_date"], cleaned.get("end_date"))
        if self.overlap is not None:
            self.add_error(None, forms.ValidationError(overlap_message(self.overlap), code="overlap"))
        elif exam_year := cleaned.get("exam_year"):
            if self.has_duplicate(self.person, exam_year):
                self.add_error(
                    None,
                    _("This person already has a record at this institution for this exam year; edit that record."),
                )

    # --- what the rules look up in the database ---------------------------------------------------------------
    # One query each here; the importer (trainees.imports.ImportRecordForm) answers the same questions from data it
    # fetched once for many rows. The rules above never change with the source of the answers.

    def find_person(self, id_type: str, number: str) -> Person | None:
        """The person already registered under this ID, if any."""
        return Person.objects.filter(id_type=id_type, id_number=number).first()

    def find_overlap(self, person, start, end) -> ProbationRecord | None:
        """An active record of ``person`` at another institution sharing a day with [start, end]."""
        from trainees.actions import find_overlap

        return find_overlap(person, self.institution, start, end, exclude=self.instance)

    def has_duplicate(self, person, exam_year) -> bool:
        """Whether ``person`` already has another active record at this institution for ``exam_year``."""
        from trainees.actions import same_institution_duplicate

        return same_institution_duplicate(person, self.institution, exam_year, exclude=self.instance)

    def person_fields(self):
        return [self[name] for name in PERSON_FIELDS]

    def record_fields(self):
        return [self[name] for name in RECORD_FIELDS]

    def person_data(self) -> dict:
        return person_data(self.cleaned_data)

    def record_data(self) -> dict:
        return record_data(self.cleaned_data)


def person_data(cleaned: dict) -> dict:
    return {name: cleaned[name] for name in PERSON_FIELDS if name in cleaned}


def record_data(cleaned: dict) -> dict:
    return {name: cleaned[name] for name in RECORD_FIELDS if name in cleaned}


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason for withdrawal"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_reason(self):
        return _clean_text(self.cleaned_data["reason"])


class OfferedChoiceField(forms.TypedChoiceField):
    """A filter's choice among the options offered from the cache (trainees.options.offer): the id chosen, checked
    against them without a query. For the list's filters only, which narrow what the account's scope already
    allows: an option out of date (for at most the options' lifetime in another process) can only narrow the list
    wrongly, never widen it. A record's own fields are checked in the database (RecordForm). Validating a year and
    a sub-office by a query each was a sixth of the region office's filtered list (bench/README.md stop 26)."""

    empty_label = "---------"

    def __init__(self, *, label):
        super().__init__(label=label, coerce=int, empty_value=None, required=False, widget=Select)


class RecordFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Name or ID number"),
        required=False,
        max_length=50,
        widget=forms.SearchInput(
            attrs={
                "placeholder": _("Name or ID number"),
                "aria-label": _("Name or ID number"),
                "title": _("Any part of a name, or at least 3 characters of an ID number"),
            }
        ),
    )
    exam_year = OfferedChoiceField(label=_("exam year"))
    category = OfferedChoiceField(label=_("exam category"))
    result = forms.ChoiceField(
        label=_("assessment result"),
        choices=[("", "---------"), *ProbationRecord.Result.choices],
        required=False,
        widget=Select,
    )
    eligibility = forms.ChoiceField(
        label=_("eligibility"), choices=[("", "---------"), *Eligibility.Status.choices], required=False, widget=Select
    )
    withdrawn = forms.BooleanField(label=_("Include withdrawn"), required=False)
    office = OfferedChoiceField(label=_("sub-office"))
    # Part of an institution's name (the list filters with icontains; the template shows a text box).
    institution = forms.CharField(label=_("trial institution"), required=False, max_length=200)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        widget=Select,
        choices=[
            ("-created_at", _("Newest first")),
            ("person__name", _("Name")),
            ("start_date", _("Start date")),
            ("-start_date", _("Start date, latest first")),
        ],
    )


class ExamYearForm(forms.ModelForm):
    class Meta:
        model = ExamYear
        fields = ["year", "cutoff", "entry_opens", "entry_closes", "filing_opens", "filing_closes", "is_current"]
        widgets = {
            name: DateInput() for name in ("cutoff", "entry_opens", "entry_closes", "filing_opens", "filing_closes")
        }

    def __init__(self, *args, region, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.region = region
        self.fields["cutoff"].required = False
        self.fields["cutoff"].help_text = _("Leave empty for 31 August of the exam year.")

    def clean_year(self):
        year = self.cleaned_data["year"]
        if not 2000 <= year <= 2100:
            raise forms.ValidationError(_("Enter a year between 2000 and 2100."))
        return year

    def clean(self):
        cleaned = super().clean()
        year = cleaned.get("year")
        if year and not cleaned.get("cutoff"):
            cleaned["cutoff"] = ExamYear.default_cutoff(year)
            self.instance.cutoff = cleaned["cutoff"]
        return cleaned

    def validate_unique(self):
        # "Only one current year" is enforced by the action (which moves the flag); skip that one constraint here.
        exclude = self._get_validation_exclusions()
        exclude.add("is_current")
        exclude.discard("region")  # set by the view, not a form field; needed to check "one row per year"
        try:
            self.instance.validate_constraints(exclude=exclude)
        except forms.ValidationError as error:
            self._update_errors(error)
