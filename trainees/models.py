"""Exam years, exam categories, trainees (persons) and their probation records.

The anti-挂靠 rule lives in PostgreSQL: two active records of one person at different institutions cannot cover the
same day (an exclusion constraint over person, institution and the period), so two institutions saving at the same
moment cannot both succeed. Eligibility is computed by a database view (``Eligibility``), never typed.
"""

import datetime
import functools
import uuid

import pghistory
import pgtrigger
from django.apps import apps
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeBoundary, RangeOperators
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import F, Func, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hbwsrc import identifiers
from hbwsrc.composed import Composed
from hbwsrc.db import AnyOf
from hbwsrc.search import SearchGrams, text_contains


class ExamYearQuerySet(models.QuerySet):
    def current_for(self, region):
        return self.filter(region=region, is_current=True).first()


CURRENT_EXAM_YEAR = "_current_exam_year_read"


def current_exam_year(region):
    """``region``'s current exam year, or None: the one read with the account's session when ``region`` is the
    account's own, as read then (accounts.backends.account_sql), else from the database."""
    if CURRENT_EXAM_YEAR in region.__dict__:
        return region.__dict__[CURRENT_EXAM_YEAR]
    return ExamYear.objects.current_for(region)


def keep_current_exam_year(region, exam_year) -> None:
    """Let ``current_exam_year(region)`` take ``exam_year`` (the region's current one, or None), read with it."""
    region.__dict__[CURRENT_EXAM_YEAR] = exam_year
    if exam_year is not None:
        ExamYear.region.field.set_cached_value(exam_year, region)


class ExamYear(models.Model):
    """One year's exam (考试年度) in one region, with its dates. Only one year is current per region."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    region = models.ForeignKey(
        "institutions.Region", models.PROTECT, related_name="exam_years", verbose_name=_("exam region")
    )
    year = models.PositiveSmallIntegerField(_("exam year"))
    cutoff = models.DateField(
        _("probation cut-off"), help_text=_("Probation must be complete by this date (normally 31 August).")
    )
    entry_opens = models.DateField(_("record entry opens"))
    entry_closes = models.DateField(_("record entry closes"))
    filing_opens = models.DateField(_("roster filing opens"))
    filing_closes = models.DateField(_("roster filing closes"))
    is_current = models.BooleanField(_("current year"), default=False)

    objects = ExamYearQuerySet.as_manager()

    class Meta:
        verbose_name = _("exam year")
        verbose_name_plural = _("exam years")
        ordering = ["region", "-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "year"],
                name="examyear_unique_year",
                violation_error_message=_("This exam year already exists."),
            ),
            models.UniqueConstraint(
                fields=["region"],
                condition=Q(is_current=True),
                name="examyear_one_current",
                violation_error_message=_("Another exam year is already the current one."),
            ),
            models.CheckConstraint(
                condition=Q(entry_opens__lte=F("entry_closes")),
                name="examyear_entry_period_ordered",
                violation_error_message=_("Record entry must open before it closes."),
            ),
            models.CheckConstraint(
                condition=Q(filing_opens__lte=F("filing_closes")),
                name="examyear_filing_window_ordered",
                violation_error_message=_("The filing window must open before it closes."),
            ),
        ]

    def __str__(self):
        return self.label(self.year)

    @staticmethod
    def label(year: int) -> str:
        """A year as users see it named, in the request's language."""
        return _("%(year)s exam") % {"year": year}

    @staticmethod
    def default_cutoff(year: int) -> datetime.date:
        return datetime.date(year, 8, 31)

    def accepts_entries(self, today: datetime.date | None = None) -> bool:
        """Records of this year may be created or changed: the current year, inside its entry period."""
        today = today or timezone.localdate()
        return self.is_current and self.entry_opens <= today <= self.entry_closes


class ExamCategory(models.Model):
    """A 报考类别: data (loaded by a migration, correctable by the region office), not an enum."""

    class Level(models.TextChoices):
        PHYSICIAN = "physician", _("Practising physician")
        ASSISTANT = "assistant", _("Assistant practising physician")

    class Class(models.TextChoices):
        CLINICAL = "clinical", _("Clinical")
        DENTAL = "dental", _("Dental")
        PUBLIC_HEALTH = "public_health", _("Public health")
        TCM = "tcm", _("Traditional Chinese medicine")

    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=50)
    level = models.CharField(_("level"), max_length=20, choices=Level.choices)
    category_class = models.CharField(_("class"), max_length=20, choices=Class.choices)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("exam category")
        verbose_name_plural = _("exam categories")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class IdType(models.TextChoices):
    RESIDENT = identifiers.RESIDENT, _("Resident identity card")
    TEMPORARY = identifiers.TEMPORARY, _("Temporary resident identity card")
    MILITARY = identifiers.MILITARY, _("Military or police officer's card")
    HK_MACAO_TAIWAN = identifiers.HK_MACAO_TAIWAN, _("Mainland travel permit (Taiwan, Hong Kong, Macao)")
    PASSPORT = identifiers.PASSPORT, _("Passport")


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Education(models.TextChoices):
    DOCTORATE = "doctorate", _("Doctorate")
    MASTER = "master", _("Master's degree")
    BACHELOR = "bachelor", _("Bachelor's degree")
    JUNIOR_COLLEGE = "junior_college", _("Junior college (大专)")
    SECONDARY = "secondary", _("Secondary vocational (中专)")
    APPRENTICESHIP = "apprenticeship", _("Apprenticeship or proven expertise")


def mask_id_number(value: str) -> str:
    """420106********1234: enough to tell rows apart, not enough to identify a person."""
    if len(value) <= 8:
        return value[:2] + "*" * max(len(value) - 2, 0)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def search_persons(queryset, text, *, through="", whole_id_number=False):
    """``queryset`` narrowed to the rows whose person (reached through ``through``, such as "person__") has a name
    containing ``text``, in any case, or an ID number containing it once normalised.

    ID numbers are matched from three characters on: a shorter part of one matches nearly every trainee, and no
    index can find it. With ``whole_id_number`` only the whole number matches (the admin, whose lists show numbers
    masked). Names are found from their grams index (``hbwsrc.search``); ID numbers from their trigram index, which
    serves equality too.
    """
    matches = text_contains(f"{through}name", text)
    number = identifiers.normalize_identifier(text)
    if whole_id_number:
        matches |= Q(**{f"{through}id_number": number})
    elif len(number) >= 3:
        matches |= Q(**{f"{through}id_number__contains": number})
    return queryset.filter(matches)


class PersonQuerySet(models.QuerySet):
    def for_user(self, user):
        """Persons with at least one record the user may see."""
        return self.filter(pk__in=ProbationRecord.objects.for_user(user).values("person"))


@pghistory.track(
    # The audit trail's search of persons' history by part of a name or a whole ID number (reports.audit_trail).
    meta={
        "indexes": [
            GinIndex(SearchGrams("name"), name="person_event_name_grams_idx"),
            models.Index(fields=["id_number"], name="person_event_id_number_idx"),
        ]
    }
)
class Person(models.Model):
    """A trainee, identified by ID document type and number across the whole platform."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    id_type = models.CharField(_("ID document type"), max_length=20, choices=IdType.choices, default=IdType.RESIDENT)
    id_number = models.CharField(_("ID number"), max_length=30)
    name = models.CharField(_("name"), max_length=50)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    education = models.CharField(_("education"), max_length=20, choices=Education.choices)
    school = models.CharField(_("school"), max_length=100)
    major = models.CharField(_("major"), max_length=100)
    graduation_date = models.DateField(_("graduation date"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("trainee")
        verbose_name_plural = _("trainees")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["id_type", "id_number"], name="person_unique_id"),
        ]
        indexes = [
            # The record list's search (any part of a name or an ID number, ProbationRecordQuerySet.search), so
            # that a search over a whole region starts from the few matching persons (bench/EXPLAIN.md).
            GinIndex(SearchGrams("name"), name="person_name_grams_idx"),
            GinIndex(fields=["id_number"], opclasses=["gin_trgm_ops"], name="person_id_number_trgm_idx"),
            # The record list sorted by name: a region office's first page walks persons in name order.
            models.Index(fields=["name"], name="person_name_idx"),
        ]
        triggers = [pgtrigger.Protect(name="person_never_deleted", operation=pgtrigger.Delete)]

    def __str__(self):
        return self.name

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)


class DateRange(Func):
    function = "daterange"
    output_field = DateRangeField()


@functools.cache
def _eligibility_status() -> models.Subquery:
    """The eligibility of a record's person for its year and category, as a subquery. Built once per process: the
    ORM took longer to build it than to annotate a queryset with it (0.4 ms of each record list, bench/README.md
    stop 22); annotating copies it, so it is never changed."""
    eligibility = Eligibility.objects.filter(
        person=models.OuterRef("person"),
        exam_year=models.OuterRef("exam_year"),
        category=models.OuterRef("category"),
    )
    return models.Subquery(eligibility.values("status")[:1])


class ProbationRecordQuerySet(models.QuerySet):
    def for_user(self, user):
        from institutions.scope import scope_for

        return scope_for(user).filter_by_institution(self, region="region")

    def active(self):
        return self.filter(withdrawn_at__isnull=True)

    def search(self, text):
        """Records whose trainee's name contains ``text`` or whose ID number contains it (``search_persons``)."""
        return search_persons(self, text, through="person__")

    def with_eligibility(self):
        """Annotate each record with its person's computed eligibility for the record's year and category (once:
        annotated already, the queryset is returned as it is)."""
        if "eligibility_status" in self.query.annotations:
            return self
        return self.annotate(eligibility_status=_eligibility_status())


# The region is the institution's, kept by the database: not a fact of the record to snapshot.
@pghistory.track(exclude=["region"])
class ProbationRecord(models.Model):
    """One person's probation at one institution for one exam year: the 试用期考核证明."""

    class Result(models.TextChoices):
        IN_PROGRESS = "in_progress", _("Under assessment")
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Failed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(Person, models.PROTECT, related_name="records", verbose_name=_("trainee"))
    institution = models.ForeignKey(
        "institutions.Institution", models.PROTECT, related_name="records", verbose_name=_("trial institution")
    )
    # The institution's region, copied by the database on every write (record_region_is_institutions) and held to
    # it by a foreign key to the institution's (id, region) (trainees migration 0009): a region office's lists walk
    # the indexes below within its region, not the whole country's records (bench/EXPLAIN.md).
    region = models.ForeignKey(
        "institutions.Region",
        models.PROTECT,
        related_name="+",
        editable=False,
        blank=True,
        db_index=False,  # record_active_region_idx and the two list indexes below start with it
        verbose_name=_("exam region"),
    )
    exam_year = models.ForeignKey(ExamYear, models.PROTECT, related_name="records", verbose_name=_("exam year"))
    category = models.ForeignKey(ExamCategory, models.PROTECT, related_name="records", verbose_name=_("exam category"))
    is_fresh_graduate = models.BooleanField(
        _("fresh graduate"), default=False, help_text=_("Registers with a partial record and a commitment letter.")
    )
    departments = models.CharField(_("rotation departments"), max_length=500)
    content = models.TextField(_("work and training content"), max_length=4000, blank=True)
    supervisor_name = models.CharField(_("supervising physician"), max_length=50)
    supervisor_licence = models.CharField(_("supervisor's practising certificate number"), max_length=30)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True, help_text=_("Leave empty while it runs."))
    result = models.CharField(_("assessment result"), max_length=20, choices=Result.choices, default=Result.IN_PROGRESS)
    assessed_on = models.DateField(_("assessment date"), null=True, blank=True)
    assessor = models.CharField(_("assessor"), max_length=50, blank=True)
    remarks = models.CharField(_("remarks"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)
    created_by = models.ForeignKey(
        "accounts.User", models.PROTECT, null=True, related_name="+", verbose_name=_("entered by")
    )
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        "accounts.User", models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("withdrawn by")
    )
    withdrawal_reason = models.CharField(_("withdrawal reason"), max_length=500, blank=True)

    objects = ProbationRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("probation record")
        verbose_name_plural = _("probation records")
        ordering = ["-created_at"]
        constraints = [
            # 挂靠: one person cannot be in probation at two institutions on the same day, in any region.
            ExclusionConstraint(
                name="record_no_overlap_across_institutions",
                expressions=[
                    ("person", RangeOperators.EQUAL),
                    ("institution", RangeOperators.NOT_EQUAL),
                    (
                        DateRange("start_date", "end_date", RangeBoundary(inclusive_lower=True, inclusive_upper=True)),
                        RangeOperators.OVERLAPS,
                    ),
                ],
                condition=Q(withdrawn_at__isnull=True),
                violation_error_message=_("This person is already in probation at another institution in that period."),
            ),
            # At one institution, one active certificate per exam year; a re-taker's next-year certificate may
            # cover the same time again, so this is per year, not per period.
            models.UniqueConstraint(
                fields=["person", "institution", "exam_year"],
                condition=Q(withdrawn_at__isnull=True),
                name="record_one_per_institution_and_year",
                violation_error_message=_("This person already has a record at this institution for this exam year."),
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gt=F("start_date")),
                name="record_end_after_start",
                violation_error_message=_("The end date must be after the start date."),
            ),
            models.CheckConstraint(
                condition=Q(result="in_progress") | Q(end_date__isnull=False, assessed_on__isnull=False),
                name="record_assessed_has_end_and_date",
                violation_error_message=_("An assessed record needs an end date and an assessment date."),
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True) | ~Q(withdrawal_reason=""),
                name="record_withdrawal_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["institution", "exam_year"], name="record_institution_year_idx"),
            # Lists: an office's records are its institutions' active records, newest first; counted and ordered
            # from this index alone (index-only scans, see trainees.views.paginate_records). The person is included
            # so that a search by name joins persons from here too: without it the planner took the GiST exclusion
            # index for an index-only scan by institution, 50 times slower (bench/EXPLAIN.md). The region is included
            # so that a region office's records of some of its institutions (filtered by name) are counted from here
            # too: its scope checks the records' region, which the index would otherwise send to the table for.
            models.Index(
                fields=["institution", "-created_at", "id"],
                include=["person", "region"],
                condition=Q(withdrawn_at__isnull=True),
                name="record_active_inst_idx",
            ),
            # A region office's list (nearly every record of its region) newest first: the first 50 entries of its
            # region in this index, not a sort of the region (bench/EXPLAIN.md). Withdrawn records included, for the
            # list that shows them too: they are about 1%, which the active list skips at no measurable cost.
            models.Index(fields=["region", "-created_at", "id"], name="record_region_new_idx"),
            # The list's count for a region office (capped at 10,000): an index-only scan of the region's entries.
            models.Index(fields=["region"], condition=Q(withdrawn_at__isnull=True), name="record_active_region_idx"),
            models.Index(fields=["person", "exam_year", "category"], name="record_person_year_cat_idx"),
            # The list sorted by start date (either way), as record_region_new_idx for the default order.
            models.Index(fields=["region", "start_date", "id"], name="record_region_start_idx"),
        ]
        triggers = [
            pgtrigger.Protect(name="record_never_deleted", operation=pgtrigger.Delete),
            # Whatever the writer sent (the ORM sends none on insert): the institution's region.
            pgtrigger.Trigger(
                name="record_region_is_institutions",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.UpdateOf("institution_id", "region_id"),
                func="""NEW.region_id := (
                    SELECT region_id FROM institutions_institution WHERE id = NEW.institution_id
                ); RETURN NEW;""",
            ),
        ]

    def __str__(self):
        return f"{self.person} · {self.institution} · {self.exam_year}"

    def get_absolute_url(self):
        return reverse("trainees:detail", args=[self.public_id])

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    def category_mismatch(self) -> bool:
        """True where we can tell the rotation does not fit the exam category (e.g. 口腔 without a dental
        department). Only the classes with an unambiguous department name are checked; others never mismatch."""
        keywords = CATEGORY_DEPARTMENT_KEYWORDS.get(self.category.category_class)
        return bool(keywords) and not any(keyword in self.departments for keyword in keywords)

    @property
    def is_locked(self) -> bool:
        """On a finalised, submitted or filed roster: the database refuses any change (reports migration 0002)."""
        return bool(_locking_entries(record=self.pk))


# One of a record's entries on a finalised, submitted or filed roster, if any: composed once (hbwsrc.composed).
_locking_entries = Composed(
    lambda p: (
        apps.get_model("reports", "RosterEntry")
        .objects.filter(record_id=p.record, roster__status__in=["finalised", "submitted", "accepted"])
        .values("pk")[:1]
    ),
    record=int,
)


#: Department words that a rotation must mention for an exam class (domain.md section 7).
CATEGORY_DEPARTMENT_KEYWORDS = {
    ExamCategory.Class.DENTAL: ("口腔", "牙"),
    ExamCategory.Class.TCM: ("中医", "中西医", "针灸", "推拿", "蒙医", "藏医", "维医"),
}


class OverlapAttempt(models.Model):
    """A refused attempt to record a probation overlapping another institution's: offices review these."""

    at = models.DateTimeField(_("time"), auto_now_add=True)
    person = models.ForeignKey(Person, models.PROTECT, null=True, related_name="+", verbose_name=_("trainee"))
    id_type = models.CharField(_("ID document type"), max_length=20, choices=IdType.choices)
    id_number = models.CharField(_("ID number"), max_length=30)
    attempted_by = models.ForeignKey("accounts.User", models.PROTECT, related_name="+", verbose_name=_("attempted by"))
    institution = models.ForeignKey(
        "institutions.Institution", models.PROTECT, related_name="+", verbose_name=_("attempting institution")
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True)
    conflicting_record = models.ForeignKey(
        ProbationRecord, models.PROTECT, related_name="+", verbose_name=_("conflicting record")
    )

    class Meta:
        verbose_name = _("overlap attempt")
        verbose_name_plural = _("overlap attempts")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.masked_id_number} {self.institution}"

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)


class Eligibility(models.Model):
    """Computed eligibility per person, exam year and category (a database view; see migration 0002).

    The person's passed periods in the category, capped at the cut-off, are added up (within one exam year they
    cannot overlap: different institutions are excluded by constraint, the same institution has one record per
    year). Eligible when the sum reaches a full year counted from the first start: start + 1 year - 1 day, where a
    year starting on 29 February ends on 28 February.
    """

    class Status(models.TextChoices):
        ELIGIBLE = "eligible", _("Eligible")
        IN_PROGRESS = "in_progress", _("Under assessment")
        INSUFFICIENT = "insufficient", _("Less than one year")
        FAILED = "failed", _("Failed")
        NONE = "none", _("No passed probation")

    pk = models.CompositePrimaryKey("person", "exam_year", "category")
    person = models.ForeignKey(Person, models.DO_NOTHING, related_name="+")
    exam_year = models.ForeignKey(ExamYear, models.DO_NOTHING, related_name="+")
    category = models.ForeignKey(ExamCategory, models.DO_NOTHING, related_name="+")
    covered_days = models.IntegerField()
    required_days = models.IntegerField(null=True)
    first_start = models.DateField(null=True)
    last_end = models.DateField(null=True)
    gap_days = models.IntegerField()
    in_progress_count = models.IntegerField()
    status = models.CharField(max_length=20, choices=Status.choices)

    class Meta:
        managed = False
        db_table = "trainees_eligibility"

    def __str__(self):
        return f"{self.person_id}/{self.exam_year_id}/{self.category_id}: {self.status}"

    @property
    def shortfall_days(self) -> int:
        return max((self.required_days or 365) - self.covered_days, 0)

    def reason(self) -> str:
        if self.status == self.Status.ELIGIBLE:
            text = _("%(days)s days of passed probation by the cut-off.") % {"days": self.covered_days}
        elif self.status == self.Status.IN_PROGRESS:
            text = _("Under assessment; %(days)s days passed so far.") % {"days": self.covered_days}
        elif self.status == self.Status.INSUFFICIENT:
            text = _("Probation adds up to less than one year, %(days)s days short.") % {"days": self.shortfall_days}
        elif self.status == self.Status.FAILED:
            text = _("The assessment was failed.")
        else:
            text = _("No passed probation in this category.")
        if self.gap_days:
            text += " " + _("Periods are not continuous (%(days)s days of gaps).") % {"days": self.gap_days}
        return text


# A person's computed eligibility for exam years and categories (every pair of them), composed once
# (hbwsrc.composed): eligibility_of(person=, exam_years=[...], categories=[...]).
eligibility_of = Composed(
    lambda p: Eligibility.objects.filter(
        AnyOf(F("exam_year"), p.exam_years), AnyOf(F("category"), p.categories), person_id=p.person
    ),
    person=int,
    exam_years=list,
    categories=list,
)


class ImportJob(models.Model):
    """One uploaded spreadsheet of records: checked (a dry run), then imported all at once, in the background.

    The report is JSON written by ``trainees.imports``: file-level errors, every bad row (row, column, message)
    and what the good rows create or change. ``rows_done`` moves while a task works, so the page can show progress.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be checked")
        CHECKING = "checking", _("Checking")
        CHECKED = "checked", _("Checked")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Not imported")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    institution = models.ForeignKey(
        "institutions.Institution", models.PROTECT, related_name="+", verbose_name=_("trial institution")
    )
    created_by = models.ForeignKey("accounts.User", models.PROTECT, related_name="+", verbose_name=_("uploaded by"))
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    report = models.JSONField(_("report"), default=dict, blank=True)
    imported_at = models.DateTimeField(_("imported"), null=True, blank=True)

    class Meta:
        verbose_name = _("record import")
        verbose_name_plural = _("record imports")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["institution", "-created_at"], name="importjob_institution_idx")]

    def __str__(self):
        return f"{self.original_name} ({self.get_status_display()})"

    def get_absolute_url(self):
        return reverse("trainees:import_detail", args=[self.public_id])

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.CHECKING, self.Status.IMPORTING)

    @property
    def can_confirm(self) -> bool:
        return (
            self.status == self.Status.CHECKED and not self.report.get("file_errors") and not self.report.get("errors")
        )
