"""State changes on probation records: atomic, scoped to the acting account's institution, and history-tracked
by database triggers (django-pghistory), so even bulk writes leave their trace."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import audit
from accounts.models import AuditEvent
from institutions.scope import MANAGE_RECORDS, scope_for
from trainees.models import ExamYear, OverlapAttempt, Person, ProbationRecord

OVERLAP_CONSTRAINT = "record_no_overlap_across_institutions"
DUPLICATE_CONSTRAINT = "record_one_per_institution_and_year"


def overlapping_records(person, institution, start, end, *, exclude=None):
    """Active records of ``person`` at other institutions whose period shares a day with [start, end]."""
    records = ProbationRecord.objects.active().filter(person=person).exclude(institution=institution)
    records = records.filter(Q(end_date__isnull=True) | Q(end_date__gte=start))
    if end is not None:
        records = records.filter(start_date__lte=end)
    if exclude is not None and exclude.pk:
        records = records.exclude(pk=exclude.pk)
    return records


def find_overlap(person, institution, start, end, *, exclude=None):
    return (
        overlapping_records(person, institution, start, end, exclude=exclude)
        .select_related("institution__office")
        .first()
    )


def same_institution_duplicate(person, institution, exam_year, *, exclude=None) -> bool:
    records = ProbationRecord.objects.active().filter(person=person, institution=institution, exam_year=exam_year)
    if exclude is not None and exclude.pk:
        records = records.exclude(pk=exclude.pk)
    return records.exists()


# The same two tests over records already in memory, for the importer, which fetches the records of a few thousand
# persons at once instead of querying row by row. Keep each in step with its query above (tests/test_import_queries.py
# compares them case by case).


def find_overlap_in(records, person, institution, start, end, *, exclude=None):
    """``find_overlap`` over ``records`` (ordered like the model, newest first)."""
    for record in records:
        if (
            record.withdrawn_at is None
            and record.person_id == person.pk
            and record.institution_id != institution.pk
            and (record.end_date is None or record.end_date >= start)
            and (end is None or record.start_date <= end)
            and not (exclude is not None and exclude.pk and record.pk == exclude.pk)
        ):
            return record
    return None


def same_institution_duplicate_in(records, person, institution, exam_year, *, exclude=None) -> bool:
    """``same_institution_duplicate`` over ``records``."""
    return any(
        record.withdrawn_at is None
        and record.person_id == person.pk
        and record.institution_id == institution.pk
        and record.exam_year_id == exam_year.pk
        and not (exclude is not None and exclude.pk and record.pk == exclude.pk)
        for record in records
    )


def overlap_message(other: ProbationRecord) -> str:
    # Name only the other institution's supervising office, never the institution or its data.
    return _(
        "This person is already in probation at another institution during this period. "
        "Please contact %(office)s, the exam management office supervising that institution."
    ) % {"office": other.institution.office.name}


# PostgreSQL's SQLSTATE for a deadlock it broke by aborting this transaction.
DEADLOCK_DETECTED = "40P01"
LOCKED_MESSAGE = gettext_lazy("This record is on a finalised or filed roster and cannot be changed.")


def is_lock_violation(error: DatabaseError) -> bool:
    """The roster lock trigger (reports migration 0002) refused the write."""
    return getattr(getattr(error.__cause__, "diag", None), "message_hint", None) == "record_locked"


def require_record_access(user, institution):
    """Records are written by the institution's own accounts holding manage_records, and by superusers through the
    admin site's import (the platform's operators, acting and audited as themselves; no platform page lets them in)."""
    superuser = user.is_active and user.is_superuser
    if not superuser and (
        user.institution_id != institution.pk or not scope_for(user).has_institution_perm(MANAGE_RECORDS, institution)
    ):
        raise PermissionDenied
    if not institution.profile_complete:
        raise PermissionDenied


def log_overlap_attempt(form, *, acting_user) -> OverlapAttempt | None:
    """Keep the refused attempt so the offices above both institutions can look into it."""
    if form.overlap is None:
        return None
    data = form.cleaned_data
    return OverlapAttempt.objects.create(
        person=form.overlap.person,
        id_type=data["id_type"],
        id_number=data["id_number"],
        attempted_by=acting_user,
        institution=form.institution,
        start_date=data["start_date"],
        end_date=data.get("end_date"),
        conflicting_record=form.overlap,
    )


def save_record(form, *, acting_user) -> ProbationRecord:
    """Save a valid ``RecordForm`` (new or changed record) with its person, in one transaction.

    A concurrent save that slipped past the form's checks is stopped by the database constraints and reported
    as a ValidationError, the same as the form would have.
    """
    institution = form.institution
    require_record_access(acting_user, institution)
    person_before = form.person
    for attempt in range(2):
        form.person = person_before  # a person created by an attempt that failed was rolled back with it
        try:
            return _write_record(form, institution, acting_user)
        except DatabaseError as error:
            if attempt == 0 and getattr(error.__cause__, "sqlstate", None) == DEADLOCK_DETECTED:
                # Two overlapping periods of one person inserted at the same moment: each exclusion check waits
                # for the other transaction and PostgreSQL aborts one of them. Once more, this save meets the
                # other's committed record and is refused below like any overlap.
                continue
            refusal = _refusal(error, form, institution)
            if refusal is error:
                raise
            raise refusal from error


def _write_record(form, institution, acting_user) -> ProbationRecord:
    with transaction.atomic():
        person_data = form.person_data()
        person = form.instance.person if form.instance.pk else form.person
        if person is None:
            # Another institution may have entered the same person since the form was validated: use that
            # row (its record then meets the overlap constraint below) instead of failing on the unique ID.
            person, created = Person.objects.get_or_create(
                id_type=person_data["id_type"], id_number=person_data["id_number"], defaults=person_data
            )
            form.person = person
            if not created and person.name != person_data["name"]:
                raise ValidationError(
                    _("This ID number is registered under another name. Check the ID number and the name.")
                )
        changed = False
        for name, value in person_data.items():
            if name not in ("id_type", "id_number") and getattr(person, name) != value:
                setattr(person, name, value)
                changed = True
        if changed:
            person.save()
        record = form.instance
        for name, value in form.record_data().items():
            setattr(record, name, value)
        record.person = person
        record.institution = institution
        if not record.pk:
            record.created_by = acting_user
        record.save()
        return record


def _refusal(error: DatabaseError, form, institution) -> Exception:
    """What a write the database refused is reported as: the form's own message where a constraint explains it,
    the error itself otherwise."""
    if is_lock_violation(error):
        return ValidationError(LOCKED_MESSAGE, code="locked")
    if not isinstance(error, IntegrityError):
        return error
    constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", "")
    if constraint == OVERLAP_CONSTRAINT:
        other = find_overlap(
            form.person, institution, form.cleaned_data["start_date"], form.cleaned_data.get("end_date")
        )
        message = overlap_message(other) if other else _("The period overlaps another record.")
        return ValidationError(message, code="overlap")
    if constraint == DUPLICATE_CONSTRAINT:
        return ValidationError(
            _("This person already has a record at this institution for this exam year."), code="duplicate"
        )
    return error


@transaction.atomic
def withdraw_record(record, *, reason: str, acting_user) -> ProbationRecord:
    """Withdraw (never delete) a record; it stops counting and stops blocking other institutions."""
    require_record_access(acting_user, record.institution)
    record = ProbationRecord.objects.select_for_update().get(pk=record.pk)
    if record.is_withdrawn:
        raise ValidationError(_("This record is already withdrawn."))
    if not record.exam_year.accepts_entries():
        raise ValidationError(_("Records of a closed exam year cannot be changed."))
    if record.is_locked:
        raise ValidationError(LOCKED_MESSAGE, code="locked")
    record.withdrawn_at = timezone.now()
    record.withdrawn_by = acting_user
    record.withdrawal_reason = reason
    record.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason", "updated_at"])
    return record


@transaction.atomic
def save_exam_year(exam_year: ExamYear, *, acting_user) -> ExamYear:
    """Create or change an exam year; making it current makes the region's other years not current."""
    if not scope_for(acting_user).can_configure_region(exam_year.region):
        raise PermissionDenied
    before = ExamYear.objects.get(pk=exam_year.pk) if exam_year.pk else None
    if before is not None and before.year < current_year_number(exam_year.region):
        raise ValidationError(_("Past exam years are read-only."))
    if exam_year.is_current:
        ExamYear.objects.filter(region=exam_year.region, is_current=True).exclude(pk=exam_year.pk).update(
            is_current=False
        )
    exam_year.save()
    audit.record(
        AuditEvent.Kind.EXAM_YEAR_SAVE,
        actor=acting_user,
        target=exam_year,
        changes=audit.diff(exam_year, audit.snapshot(before, EXAM_YEAR_FIELDS) if before else {}, EXAM_YEAR_FIELDS),
    )
    return exam_year


EXAM_YEAR_FIELDS = ("year", "cutoff", "entry_opens", "entry_closes", "filing_opens", "filing_closes", "is_current")


def current_year_number(region) -> int:
    current = ExamYear.objects.current_for(region)
    return current.year if current else 0
