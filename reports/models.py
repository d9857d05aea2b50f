"""Annual roster filing (名单备案): frozen, versioned snapshots of an institution's passed trainees.

A roster is finalised from the records as they are at that moment; its rows are copied, so later edits never
change it. While a roster is finalised, submitted or accepted its records are locked by a database trigger
(migration 0002), whatever path tries to write them. A returned roster unlocks them; the next finalisation is a
new version, and every version with its decision is kept.
"""

import secrets
import uuid

from django.db import models
from django.db.models import F, Q
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hbwsrc.db import AnyOf

VERIFICATION_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: codes are typed from paper


def new_verification_code() -> str:
    """Four groups of four, about 80 bits: unguessable, and the page that checks it is rate limited."""
    raw = "".join(secrets.choice(VERIFICATION_ALPHABET) for _position in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def normalize_verification_code(value: str) -> str:
    raw = "".join(c for c in value.upper() if c.isascii() and c.isalnum())
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


# An institution's filing status for an exam year is that of its current roster: the latest version not cancelled
# (no such version: not started). As SQL, for every institution at once, from reports_dash_roster_latest_idx alone and
# in its order (no sort): the dashboard joins it, the filing list filters by it. ``{year}`` is the year's placeholder.
CURRENT_ROSTERS_SQL = """
SELECT DISTINCT ON (r.institution_id) r.institution_id, r.status, r.submitted_at
FROM reports_roster r
WHERE r.exam_year_id = {year} AND r.status <> 'cancelled'
ORDER BY r.institution_id, r.version DESC
"""


def institutions_filing_as(exam_year, status) -> RawSQL:
    """The ids of the institutions whose current roster for ``exam_year`` has ``status`` (for ``pk__in``).

    One pass over the year's rosters: probing each institution's latest roster instead costs one index lookup per
    institution of the subtree (5,000 for a province's region office)."""
    return RawSQL(
        f"SELECT institution_id FROM ({CURRENT_ROSTERS_SQL.format(year='%s')}) current WHERE status = %s",
        (exam_year.pk, status),
    )


class RosterQuerySet(models.QuerySet):
    def not_cancelled(self):
        return self.exclude(status=Roster.Status.CANCELLED)

    def current_first(self, institution, exam_year):
        """``institution``'s rosters for ``exam_year`` that count, its current one first (``institution`` may be an
        ``OuterRef``)."""
        return self.filter(institution=institution, exam_year=exam_year).not_cancelled().order_by("-version")

    def current(self):
        """Of these rosters, each institution's current one for each exam year: its latest version not cancelled."""
        fields = ("institution_id", "exam_year_id")  # the columns: "institution" would order by its name
        return self.not_cancelled().order_by(*fields, "-version").distinct(*fields)

    def current_of(self, institution_ids, exam_year):
        """The current roster for ``exam_year`` of each of the institutions named (those with one), in one query."""
        return self.filter(AnyOf(F("institution"), list(institution_ids)), exam_year=exam_year).current()


class Roster(models.Model):
    class Status(models.TextChoices):
        FINALISED = "finalised", _("Not submitted")
        SUBMITTED = "submitted", _("Submitted")
        ACCEPTED = "accepted", _("Filed")
        RETURNED = "returned", _("Returned")
        CANCELLED = "cancelled", _("Discarded")

    class PdfState(models.TextChoices):
        QUEUED = "queued", _("Waiting to be rendered")
        RENDERING = "rendering", _("Rendering")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Rendering failed")

    LOCKING_STATUSES = (Status.FINALISED, Status.SUBMITTED, Status.ACCEPTED)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    institution = models.ForeignKey(
        "institutions.Institution", models.PROTECT, related_name="rosters", verbose_name=_("trial institution")
    )
    exam_year = models.ForeignKey(
        "trainees.ExamYear", models.PROTECT, related_name="rosters", verbose_name=_("exam year")
    )
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.FINALISED)
    verification_code = models.CharField(
        _("verification code"), max_length=19, unique=True, default=new_verification_code, editable=False
    )
    row_count = models.PositiveIntegerField(_("number of persons"), default=0)
    # What the PDF header shows, frozen with the rows.
    institution_name = models.CharField(_("institution name"), max_length=200)
    institution_uscc = models.CharField(_("unified social credit code"), max_length=18)
    institution_licence = models.CharField(_("practising licence registration number"), max_length=40)
    institution_head = models.CharField(_("head or legal representative"), max_length=50)
    office_name = models.CharField(_("supervising office"), max_length=100)

    finalised_at = models.DateTimeField(_("finalised"), auto_now_add=True)
    finalised_by = models.ForeignKey("accounts.User", models.PROTECT, related_name="+", verbose_name=_("finalised by"))
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        "accounts.User", models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("submitted by")
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        "accounts.User", models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("decided by")
    )
    return_reason = models.TextField(_("reason for return"), blank=True)

    pdf = models.FileField(_("PDF"), upload_to="rosters/pdf/%Y/", blank=True)
    pdf_sha256 = models.CharField(_("SHA-256 of the PDF"), max_length=64, blank=True)
    pdf_state = models.CharField(_("PDF"), max_length=20, choices=PdfState.choices, default=PdfState.QUEUED)
    pdf_pages = models.PositiveIntegerField(_("pages"), default=0)
    pdf_error = models.TextField(blank=True)

    scan = models.FileField(_("stamped scan"), upload_to="rosters/scan/%Y/", blank=True)
    scan_sha256 = models.CharField(max_length=64, blank=True)
    scan_content_type = models.CharField(max_length=50, blank=True)
    scan_uploaded_at = models.DateTimeField(_("scan uploaded"), null=True, blank=True)

    objects = RosterQuerySet.as_manager()

    class Meta:
        verbose_name = _("roster")
        verbose_name_plural = _("rosters")
        ordering = ["institution", "exam_year", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "exam_year", "version"], name="roster_unique_version"),
            # At most one roster in play per institution and year: finalised, submitted or filed.
            models.UniqueConstraint(
                fields=["institution", "exam_year"],
                condition=Q(status__in=["finalised", "submitted", "accepted"]),
                name="roster_one_open_per_year",
            ),
            models.CheckConstraint(
                condition=~Q(status="returned") | ~Q(return_reason=""), name="roster_return_has_reason"
            ),
        ]
        indexes = [models.Index(fields=["exam_year", "status"], name="roster_year_status_idx")]

    def __str__(self):
        return _("%(institution)s, %(year)s roster v%(version)s") % {
            "institution": self.institution_name,
            "year": self.exam_year.year,
            "version": self.version,
        }

    def get_absolute_url(self):
        return reverse("reports:roster_detail", args=[self.public_id])

    def get_verification_url(self):
        return reverse("reports:verify_code", args=[self.verification_code])

    @property
    def region_id(self):
        """For the audit trail, which files events by region."""
        return self.institution.region_id

    @property
    def locks_records(self) -> bool:
        return self.status in self.LOCKING_STATUSES


class RosterEntry(models.Model):
    """One row of a roster as it was when finalised."""

    roster = models.ForeignKey(Roster, models.CASCADE, related_name="entries", verbose_name=_("roster"))
    position = models.PositiveIntegerField(_("no."))
    record = models.ForeignKey(
        "trainees.ProbationRecord", models.PROTECT, related_name="roster_entries", verbose_name=_("record")
    )
    name = models.CharField(_("full name"), max_length=50)
    sex = models.CharField(_("sex"), max_length=1)
    id_type = models.CharField(_("ID document type"), max_length=20)
    id_number = models.CharField(_("ID number"), max_length=30)
    category = models.CharField(_("exam category"), max_length=80)
    departments = models.CharField(_("rotation departments"), max_length=500)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True)
    result = models.CharField(_("assessment result"), max_length=20)
    is_fresh_graduate = models.BooleanField(_("fresh graduate"), default=False)
    flagged = models.BooleanField(_("marked by the office"), default=False)

    class Meta:
        verbose_name = _("roster row")
        verbose_name_plural = _("roster rows")
        ordering = ["roster", "position"]
        constraints = [
            models.UniqueConstraint(fields=["roster", "position"], name="rosterentry_unique_position"),
            models.UniqueConstraint(fields=["roster", "record"], name="rosterentry_unique_record"),
        ]
        indexes = [models.Index(fields=["record"], name="rosterentry_record_idx")]

    def __str__(self):
        return f"{self.position}. {self.name}"

    @classmethod
    def copy_of(cls, record, *, roster, position) -> "RosterEntry":
        """The row as the record and its person are now (needs ``person`` and ``category`` loaded)."""
        return cls(
            roster=roster,
            position=position,
            record=record,
            name=record.person.name,
            sex=record.person.sex,
            id_type=record.person.id_type,
            id_number=record.person.id_number,
            category=record.category.name,
            departments=record.departments,
            start_date=record.start_date,
            end_date=record.end_date,
            result=record.result,
            is_fresh_graduate=record.is_fresh_graduate,
        )

    #: The fields compared between two versions of a roster.
    COMPARED_FIELDS = ("name", "sex", "id_number", "category", "departments", "start_date", "end_date", "result")


class FilingReopening(models.Model):
    """An office lets one institution submit after the filing window closed."""

    institution = models.ForeignKey(
        "institutions.Institution", models.PROTECT, related_name="+", verbose_name=_("trial institution")
    )
    exam_year = models.ForeignKey("trainees.ExamYear", models.PROTECT, related_name="+", verbose_name=_("exam year"))
    until = models.DateField(_("open until"))
    reason = models.CharField(_("reason"), max_length=500)
    granted_by = models.ForeignKey("accounts.User", models.PROTECT, related_name="+", verbose_name=_("granted by"))
    granted_at = models.DateTimeField(_("granted"), auto_now_add=True)

    class Meta:
        verbose_name = _("filing reopening")
        verbose_name_plural = _("filing reopenings")
        ordering = ["-granted_at"]

    def __str__(self):
        return f"{self.institution} {self.exam_year} → {self.until}"


class EligibleAtInstitution(models.Model):
    """A person eligible for the exam year in the category of his active record at an institution (the rule of the
    trainees_eligibility view), for the filing dashboard's counts of eligible persons.

    Written only by the database (reports migration 0004): triggers on the probation records recompute a person's
    rows of an exam year from the view whenever one of his records of that year is written, and a trigger on the exam
    years recomputes a year whose cut-off changes. ``shared``: the person has rows at several institutions that
    year, so a count of persons over several institutions must count him once.
    """

    pk = models.CompositePrimaryKey("person", "exam_year", "institution")
    person = models.ForeignKey("trainees.Person", models.DO_NOTHING, related_name="+", db_index=False)
    exam_year = models.ForeignKey("trainees.ExamYear", models.DO_NOTHING, related_name="+", db_index=False)
    institution = models.ForeignKey("institutions.Institution", models.DO_NOTHING, related_name="+", db_index=False)
    shared = models.BooleanField()

    class Meta:
        db_table = "reports_eligible_at_institution"
        verbose_name = _("eligible person at an institution")
        verbose_name_plural = _("eligible persons at institutions")
        indexes = [
            # Per institution, the persons eligible there and nowhere else (counted, not listed) ...
            models.Index(fields=["exam_year", "institution"], condition=Q(shared=False), name="eligible_alone_idx"),
            # ... and the others, listed to be counted once per dashboard row.
            models.Index(
                fields=["exam_year", "institution", "person"], condition=Q(shared=True), name="eligible_shared_idx"
            ),
        ]

    def __str__(self):
        return f"{self.person_id} {self.exam_year_id} {self.institution_id}"
