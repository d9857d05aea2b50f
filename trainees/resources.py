"""django-import-export resources for probation records.

``RecordImportResource`` runs the library's row loop (``Resource.import_data``) and result bookkeeping
(``Result.invalid_rows``, ``Result.error_rows``, row import types) but builds and validates every row through
``ImportRecordForm``, i.e. ``RecordForm``, never through resource fields and widgets: the record form is the single
validation path for a record and its person. Existing records are matched by the person's ID, the exam year and the
institution; a row that would change nothing is skipped ("unchanged"), so importing the same file twice changes
nothing.

Writing: the whole import is one transaction (``trainees.imports.import_file``). Rows that change an existing
record or concern a person already known go through ``actions.save_record`` one by one, like the web form. Rows of
new persons (the bulk of a first import) are inserted in batches with ``bulk_create``; the database constraints
still apply to every row, and a batch the database refuses (a record entered elsewhere meanwhile) is saved again
row by row through ``actions.save_record`` to say which row failed and why. ``Meta.use_bulk`` is set only so the
library does not open a savepoint per row; its own bulk writers receive nothing.

``RecordExportResource`` writes records with the import's Chinese headers (so an export imports back unchanged),
followed by read-only columns: institution, office, eligibility, filing status, record status.
"""

import logging
from dataclasses import dataclass, field
from types import SimpleNamespace

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, models, transaction
from django.utils.translation import gettext as _
from import_export import resources
from import_export.fields import Field

from trainees import actions, forms
from trainees.forms import PERSON_FIELDS, RECORD_FIELDS
from trainees.imports import (
    ACTIVE,
    COLUMN_BY_FIELD,
    EDUCATION_NAMES,
    FIELDS,
    ID_TYPE_NAMES,
    NEW,
    NO,
    RESULT_NAMES,
    ROW_NUMBER,
    SEX_NAMES,
    SKIPPED,
    UNCHANGED,
    UPDATE,
    WITHDRAWN,
    YES,
    ImportRecordForm,
    KnownPersons,
    RowConverter,
)
from trainees.models import Eligibility, Person, ProbationRecord, mask_id_number

logger = logging.getLogger(__name__)

COMPARED_PERSON_FIELDS = tuple(name for name in PERSON_FIELDS if name not in ("id_type", "id_number"))
# Rows whose persons are looked up together (two queries per window, ``KnownPersons.fetch``).
KNOWN_WINDOW = 1000
# Non-field errors of the record form shown against a column rather than the whole row, by error code.
NON_FIELD_COLUMNS = {"overlap": "start_date"}


@dataclass
class _Row:
    """The row being imported, between the library's hooks."""

    number: int  # as the spreadsheet shows it
    data: dict
    cell_errors: dict
    key: tuple | None
    withdrawn: bool
    original: dict | None = None
    form: ImportRecordForm | None = None
    action: str = ""
    changed: list = field(default_factory=list)


@dataclass
class _Checked:
    """What ``actions.save_record`` reads from a valid record form, kept for a row waiting for its batch.

    Not the form itself: two dozen deep-copied fields with their widgets per row, and 500 rows of them alive until
    the batch is written made Python's cyclic garbage collector walk them over and over (a third of the import's
    time on 10,000 rows).
    """

    institution: object
    instance: ProbationRecord
    cleaned_data: dict
    person: Person | None

    @classmethod
    def of(cls, form) -> "_Checked":
        return cls(form.institution, form.instance, form.cleaned_data, form.person)

    def person_data(self) -> dict:
        return forms.person_data(self.cleaned_data)

    def record_data(self) -> dict:
        return forms.record_data(self.cleaned_data)


def _snapshot(record) -> dict:
    values = {name: getattr(record, name) for name in RECORD_FIELDS if name not in ("exam_year", "category")}
    values["exam_year"], values["category"] = record.exam_year_id, record.category_id
    values.update({name: getattr(record.person, name) for name in COMPARED_PERSON_FIELDS})
    return values


def _comparable(value):
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, str):
        return value.replace("\r\n", "\n")
    return value


def _changed_columns(original: dict, cleaned: dict) -> list:
    return [
        COLUMN_BY_FIELD[name].header
        for name in (*COMPARED_PERSON_FIELDS, *RECORD_FIELDS)
        if name in cleaned and _comparable(original[name]) != _comparable(cleaned[name])
    ]


class RecordImportResource(resources.ModelResource):
    class Meta:
        model = ProbationRecord
        fields = ()
        use_bulk = True  # only to avoid a savepoint per row; see the module docstring
        batch_size = 500
        skip_diff = True
        report_skipped = True
        clean_model_instances = False

    def __init__(self, *, institution, user, table, progress=None):
        super().__init__()
        self.institution = institution
        self.user = user
        self.table = table
        self.progress = progress
        self.converter = RowConverter(institution, epoch=table.epoch)
        self.choices = ImportRecordForm.choices_for(institution)
        self.known = KnownPersons()
        self.known_until = 0  # rows before this index are covered by self.known's window
        self.numbers = [number for number, _values in table.rows]
        self.locked = set()  # ids of records on a finalised, submitted or filed roster
        self.seen = {}  # the same key -> the first row of the file that has it
        self.pending = []  # (dataset index, row number, _Checked) of new persons waiting for bulk_create
        self.flush_errors = {}  # dataset index -> (row number, messages)
        self.overlaps = []
        self.report_rows = []
        self.row = None

    def dataset(self) -> tablib.Dataset:
        return tablib.Dataset(*((number, *values) for number, values in self.table.rows), headers=[ROW_NUMBER, *FIELDS])

    # --- the library's hooks, in the order it calls them ---------------------------------------------------

    def before_import(self, dataset, **kwargs):
        from reports.models import Roster, RosterEntry

        self.locked = set(
            RosterEntry.objects.filter(
                record__institution=self.institution, roster__status__in=Roster.LOCKING_STATUSES
            ).values_list("record_id", flat=True)
        )

    def before_import_row(self, row, **kwargs):
        index = kwargs["row_number"] - 1
        if index >= self.known_until:
            self._fetch_known(index)
        data, cell_errors = self.converter.convert({name: row[name] for name in FIELDS})
        self.row = _Row(
            number=row[ROW_NUMBER],
            data=data,
            cell_errors=cell_errors,
            key=RowConverter.key(data),
            withdrawn=data.get("record_status") == WITHDRAWN,
        )

    def get_or_init_instance(self, instance_loader, row):
        state = self.row
        record = None
        if state.key is not None and not state.withdrawn and state.key not in self.seen:
            record = self._existing(state.key)
        if record is None:
            return ProbationRecord(institution=self.institution), True
        state.original = _snapshot(record)
        return record, False

    def import_instance(self, instance, row, **kwargs):
        state = self.row
        if state.withdrawn:
            state.action = SKIPPED
            return
        form = ImportRecordForm(
            state.data,
            instance=instance,
            institution=self.institution,
            choices=self.choices,
            known=self.known,
        )
        form.is_valid()
        errors = {name: [message] for name, message in state.cell_errors.items()}
        for name, error_list in form.errors.as_data().items():
            if name in state.cell_errors:
                continue  # the cell's own message says more than "This field is required."
            for error in error_list:
                target = NON_FIELD_COLUMNS.get(error.code, name) if name == NON_FIELD_ERRORS else name
                errors.setdefault(target, []).extend(error.messages)
        if state.key is not None:
            if (first := self.seen.get(state.key)) is not None:
                errors.setdefault("id_number", []).append(
                    _("This person is already in row %(row)s of this file for the same exam year.") % {"row": first}
                )
            else:
                self.seen[state.key] = state.number
        if form.overlap is not None:
            self.overlaps.append(
                SimpleNamespace(overlap=form.overlap, institution=self.institution, cleaned_data=form.cleaned_data)
            )
        if instance.pk and not errors:
            state.changed = _changed_columns(state.original, form.cleaned_data)
            if state.changed and instance.pk in self.locked:
                errors[NON_FIELD_ERRORS] = [str(actions.LOCKED_MESSAGE)]
        if errors:
            raise ValidationError(errors)
        state.form = form
        state.action = NEW if not instance.pk else UPDATE if state.changed else UNCHANGED

    def skip_row(self, instance, original, row, import_validation_errors=None):
        return not import_validation_errors and self.row.action in (UNCHANGED, SKIPPED)

    def save_instance(self, instance, is_create, row, **kwargs):
        if kwargs.get("dry_run"):
            return
        form = self.row.form
        if is_create and form.person is None:
            self.pending.append((kwargs["row_number"], self.row.number, _Checked.of(form)))
            if len(self.pending) >= self._meta.batch_size:
                self._flush()
            return
        try:
            actions.save_record(form, acting_user=self.user)
        except ValidationError as error:
            raise ValidationError({NON_FIELD_ERRORS: error.messages}) from error

    def after_import_row(self, row, row_result, **kwargs):
        state = self.row
        if state.action and not row_result.is_invalid() and not row_result.is_error():
            cleaned = state.form.cleaned_data if state.form else state.data
            self.report_rows.append(
                {
                    "row": state.number,
                    "action": state.action,
                    "name": str(cleaned.get("name", "")),
                    "id": mask_id_number(str(cleaned.get("id_number", ""))),
                    "fields": state.changed,
                }
            )
        self.row = None
        if self.progress is not None:
            self.progress(kwargs["row_number"], len(self.numbers))

    def after_import(self, dataset, result, **kwargs):
        if not kwargs.get("dry_run"):
            self._flush()
        for index, (_number, messages) in sorted(self.flush_errors.items()):
            result.append_invalid_row(index, {}, ValidationError({NON_FIELD_ERRORS: messages}))
        super().after_import(dataset, result, **kwargs)

    # --- the persons of the next rows, fetched together ------------------------------------------------------

    def _fetch_known(self, index: int) -> None:
        """Fetch the known persons (and their records) of the next ``KNOWN_WINDOW`` rows, starting at ``index``."""
        self.known_until = index + KNOWN_WINDOW
        position = FIELDS.index("id_number")
        rows = self.table.rows[index : self.known_until]
        numbers = {self.converter.id_number(values[position]) for _number, values in rows}
        self.known.fetch(numbers - {None, ""})

    def _existing(self, key):
        """The active record at this institution of the row's person and exam year, which the row then updates."""
        id_type, number, exam_year_id = key
        if self.known.covers(number):
            return self.known.record_at(self.institution, id_type, number, exam_year_id)
        records = ProbationRecord.objects.active().filter(
            institution=self.institution, exam_year_id=exam_year_id, person__id_type=id_type, person__id_number=number
        )
        return records.select_related("person", "institution__office", "exam_year").first()

    # --- writing new persons in batches ----------------------------------------------------------------------

    def _flush(self):
        batch, self.pending = self.pending, []
        if not batch:
            return
        try:
            with transaction.atomic():
                persons = Person.objects.bulk_create([Person(**form.person_data()) for _i, _n, form in batch])
                records = []
                for (_index, _number, form), person in zip(batch, persons, strict=True):
                    record = form.instance
                    for name, value in form.record_data().items():
                        setattr(record, name, value)
                    record.person, record.institution, record.created_by = person, self.institution, self.user
                    records.append(record)
                ProbationRecord.objects.bulk_create(records)
        except DatabaseError:
            # The database refused the batch (a record or person entered elsewhere since the check): save the rows
            # one by one through the form's action, which says which row and why.
            for index, number, form in batch:
                form.instance.pk = None
                form.instance._state.adding = True
                try:
                    actions.save_record(form, acting_user=self.user)
                except ValidationError as error:
                    self.flush_errors[index] = (number, error.messages)

    # --- the report ------------------------------------------------------------------------------------------

    def fill_report(self, result, report) -> None:
        whole_row = _("(whole row)")
        for invalid in result.invalid_rows:
            number = self.numbers[invalid.number - 1]
            for name, messages in invalid.error_dict.items():
                column = whole_row if name == NON_FIELD_ERRORS else self.table.column_label(name)
                for message in messages:
                    report.add_error(number, column, message)
        for error_row in result.error_rows:
            for error in error_row.errors:
                logger.error("import row failed: %s", error.traceback)
            report.add_error(
                self.numbers[error_row.number - 1],
                whole_row,
                _("This row could not be processed because of an internal error."),
            )
        for error in result.base_errors:
            logger.error("import failed: %s", error.traceback)
            report.file_errors.append(_("The file could not be processed because of an internal error."))
        report.errors.sort(key=lambda error: error["row"])
        report.rows = self.report_rows
        for row in self.report_rows:
            report.counts[row["action"]] += 1

    def log_overlap_attempts(self) -> None:
        for attempt in self.overlaps:
            actions.log_overlap_attempt(attempt, acting_user=self.user)


# --- export --------------------------------------------------------------------------------------------------


EXPORT_COLUMNS = (
    ("id_type", lambda r: ID_TYPE_NAMES.get(r.person.id_type, r.person.id_type)),
    ("id_number", lambda r: r.person.id_number),
    ("name", lambda r: r.person.name),
    ("sex", lambda r: SEX_NAMES.get(r.person.sex, r.person.sex)),
    ("birth_date", lambda r: r.person.birth_date),
    ("education", lambda r: EDUCATION_NAMES.get(r.person.education, r.person.education)),
    ("school", lambda r: r.person.school),
    ("major", lambda r: r.person.major),
    ("graduation_date", lambda r: r.person.graduation_date),
    ("exam_year", lambda r: r.exam_year.year),
    ("category", lambda r: r.category.code),
    ("is_fresh_graduate", lambda r: YES if r.is_fresh_graduate else NO),
    ("departments", lambda r: r.departments),
    ("content", lambda r: r.content),
    ("supervisor_name", lambda r: r.supervisor_name),
    ("supervisor_licence", lambda r: r.supervisor_licence),
    ("start_date", lambda r: r.start_date),
    ("end_date", lambda r: r.end_date),
    ("result", lambda r: RESULT_NAMES.get(r.result, r.result)),
    ("assessed_on", lambda r: r.assessed_on),
    ("assessor", lambda r: r.assessor),
    ("remarks", lambda r: r.remarks),
)
#: Columns only exports have (data headers, like the import's): ignored when the file is imported again.
EXTRA_HEADERS = {
    "category_name": "报考类别名称",
    "institution": "试用机构",
    "institution_uscc": "机构统一社会信用代码",
    "office": "主管考试管理机构",
    "eligibility": "资格状态",
    "filing": "名单备案状态",
    "record_status": "记录状态",
    "public_id": "记录编号",
}
#: Export columns written as text in xlsx, so Excel never turns them into numbers.
TEXT_COLUMNS = ("id_number", "supervisor_licence", "institution_uscc", "public_id")


class RecordExportResource(resources.ModelResource):
    """Probation records as rows; ``filing`` maps (institution id, exam year id) to the roster status shown."""

    class Meta:
        model = ProbationRecord
        fields = ()

    def __init__(self, *, filing=None):
        super().__init__()
        self.filing = filing or {}
        for name, getter in EXPORT_COLUMNS:
            self.fields[name] = Field(column_name=COLUMN_BY_FIELD[name].header, dehydrate_method=getter)
        extras = {
            "category_name": lambda r: r.category.name,
            "institution": lambda r: r.institution.name,
            "institution_uscc": lambda r: r.institution.uscc,
            "office": lambda r: r.institution.office.name,
            "eligibility": self._eligibility,
            "filing": lambda r: self.filing.get((r.institution_id, r.exam_year_id), _("No roster")),
            "record_status": lambda r: WITHDRAWN if r.withdrawn_at else ACTIVE,
            "public_id": lambda r: str(r.public_id),
        }
        for name, getter in extras.items():
            self.fields[name] = Field(column_name=EXTRA_HEADERS[name], dehydrate_method=getter)

    @staticmethod
    def _eligibility(record):
        status = getattr(record, "eligibility_status", None)
        return str(Eligibility.Status(status).label) if status else ""

    def column_names(self) -> list:
        return list(self.fields)
