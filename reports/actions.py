"""Roster filing actions. Each checks the actor's rights and the state machine, runs in one transaction with the
roster row locked (so a concurrent accept and return end in exactly one outcome), and is audited."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import audit
from accounts.models import AuditEvent
from institutions.scope import MANAGE_OFFICE, MANAGE_RECORDS, scope_for
from reports import workflow
from reports.models import FilingReopening, Roster, RosterEntry
from reports.tasks import render_roster
from trainees.models import ProbationRecord


def draft_rows(institution, exam_year, columns=None):
    """Split the institution's active records of the year into (qualifying, [(record, reason)] not qualifying).

    A record qualifies when its assessment is passed, or when it is still under assessment for a fresh
    graduate (who registers with a partial record and a commitment letter). The records come with their person
    and category (to freeze them into a roster); with ``columns``, as dicts of those columns (the draft page).
    """
    records = (
        ProbationRecord.objects.active()
        .filter(institution=institution, exam_year=exam_year)
        .order_by("person__name", "pk")
    )
    if columns:
        rows, field = records.values("result", "is_fresh_graduate", *columns), dict.__getitem__
    else:
        rows, field = records.select_related("person", "category"), getattr
    qualifying, refused = [], []
    for row in rows:
        result = field(row, "result")
        if result == ProbationRecord.Result.PASSED:
            qualifying.append(row)
        elif result == ProbationRecord.Result.IN_PROGRESS and field(row, "is_fresh_graduate"):
            qualifying.append(row)
        elif result == ProbationRecord.Result.FAILED:
            refused.append((row, _("The assessment was failed.")))
        else:
            refused.append((row, _("Still under assessment, and not a fresh graduate.")))
    return qualifying, refused


def filing_open(institution, exam_year, today=None) -> bool:
    today = today or timezone.localdate()
    if exam_year.filing_opens <= today <= exam_year.filing_closes:
        return True
    return FilingReopening.objects.filter(institution=institution, exam_year=exam_year, until__gte=today).exists()


def _require_institution(user, institution):
    if user.institution_id != institution.pk or not scope_for(user).has_institution_perm(MANAGE_RECORDS, institution):
        raise PermissionDenied


def _require_supervisor(user, institution):
    """Only the office directly supervising the institution, or an office above it, decides on its rosters."""
    if user.office_id is None or not scope_for(user).has_office_perm(MANAGE_OFFICE, institution.office):
        raise PermissionDenied


def _locked(roster_pk) -> Roster:
    return Roster.objects.select_for_update().select_related("institution__office", "exam_year").get(pk=roster_pk)


def _transition(roster: Roster, action: str) -> None:
    try:
        roster.status = workflow.next_status(roster.status, action)
    except workflow.TransitionRefused:
        raise ValidationError(
            _("This roster is %(status)s; that action is not possible now."),
            params={"status": roster.get_status_display()},
            code="transition",
        ) from None


@transaction.atomic
def finalise(institution, exam_year, *, acting_user, request=None) -> Roster:
    """Freeze the qualifying records into a new roster version and queue its PDF."""
    _require_institution(acting_user, institution)
    if not exam_year.is_current:
        raise ValidationError(_("Only the current exam year's roster can be finalised."))
    if not filing_open(institution, exam_year):
        raise ValidationError(_("The filing window is closed."), code="window")
    # Serialise finalisations of one institution: lock its row.
    type(institution).objects.select_for_update().get(pk=institution.pk)
    if Roster.objects.filter(institution=institution, exam_year=exam_year, status__in=Roster.LOCKING_STATUSES).exists():
        raise ValidationError(_("A roster of this year is already finalised; discard it first."), code="open")
    qualifying, _refused = draft_rows(institution, exam_year)
    if not qualifying:
        raise ValidationError(_("No record qualifies for the roster."), code="empty")
    version = (
        Roster.objects.filter(institution=institution, exam_year=exam_year).aggregate(v=Max("version"))["v"] or 0
    ) + 1
    roster = Roster.objects.create(
        institution=institution,
        exam_year=exam_year,
        version=version,
        row_count=len(qualifying),
        institution_name=institution.name,
        institution_uscc=institution.uscc,
        institution_licence=institution.licence_number,
        institution_head=institution.head_name,
        office_name=institution.office.name,
        finalised_by=acting_user,
    )
    RosterEntry.objects.bulk_create(
        RosterEntry.copy_of(record, roster=roster, position=position)
        for position, record in enumerate(qualifying, start=1)
    )
    audit.record(
        AuditEvent.Kind.ROSTER_FINALISE,
        actor=acting_user,
        target=roster,
        changes={"version": version, "rows": len(qualifying)},
        request=request,
    )
    transaction.on_commit(lambda: render_roster.enqueue(roster.pk))
    return roster


@transaction.atomic
def cancel(roster, *, acting_user, request=None) -> Roster:
    """Discard a finalised roster that was not submitted; its records unlock."""
    _require_institution(acting_user, roster.institution)
    roster = _locked(roster.pk)
    _transition(roster, "cancel")
    roster.save(update_fields=["status"])
    audit.record(AuditEvent.Kind.ROSTER_CANCEL, actor=acting_user, target=roster, request=request)
    return roster


@transaction.atomic
def submit(roster, *, acting_user, request=None) -> Roster:
    _require_institution(acting_user, roster.institution)
    roster = _locked(roster.pk)
    if roster.pdf_state != Roster.PdfState.READY:
        raise ValidationError(_("The PDF is not ready yet; submit once it has been rendered."), code="pdf")
    if not filing_open(roster.institution, roster.exam_year):
        raise ValidationError(
            _("The filing window is closed. Ask your supervising office to reopen it for you."), code="window"
        )
    _transition(roster, "submit")
    roster.submitted_at = timezone.now()
    roster.submitted_by = acting_user
    roster.save(update_fields=["status", "submitted_at", "submitted_by"])
    audit.record(AuditEvent.Kind.ROSTER_SUBMIT, actor=acting_user, target=roster, request=request)
    return roster


@transaction.atomic
def attach_scan(roster, upload, *, content_type: str, digest: str, acting_user, request=None) -> Roster:
    """Store the scan of the stamped paper copy (validated by the caller's form)."""
    _require_institution(acting_user, roster.institution)
    roster = _locked(roster.pk)
    if roster.status not in (Roster.Status.SUBMITTED, Roster.Status.ACCEPTED):
        raise ValidationError(_("Upload the stamped scan after submitting the roster."), code="status")
    roster.scan.save(f"scan-{roster.public_id}-v{roster.version}", upload, save=False)
    roster.scan_sha256 = digest
    roster.scan_content_type = content_type
    roster.scan_uploaded_at = timezone.now()
    roster.save(update_fields=["scan", "scan_sha256", "scan_content_type", "scan_uploaded_at"])
    audit.record(
        AuditEvent.Kind.ROSTER_SCAN, actor=acting_user, target=roster, changes={"sha256": digest}, request=request
    )
    return roster


@transaction.atomic
def accept(roster, *, acting_user, request=None) -> Roster:
    _require_supervisor(acting_user, roster.institution)
    roster = _locked(roster.pk)
    _transition(roster, "accept")
    roster.decided_at = timezone.now()
    roster.decided_by = acting_user
    roster.save(update_fields=["status", "decided_at", "decided_by"])
    audit.record(AuditEvent.Kind.ROSTER_ACCEPT, actor=acting_user, target=roster, request=request)
    return roster


@transaction.atomic
def return_roster(roster, *, reason: str, flagged_positions=(), acting_user, request=None) -> Roster:
    """Send a submitted roster back with a reason; its records unlock for correction."""
    _require_supervisor(acting_user, roster.institution)
    if not reason.strip():
        raise ValidationError(_("Give the reason for returning the roster."), code="reason")
    roster = _locked(roster.pk)
    _transition(roster, "return")
    roster.decided_at = timezone.now()
    roster.decided_by = acting_user
    roster.return_reason = reason.strip()
    roster.save(update_fields=["status", "decided_at", "decided_by", "return_reason"])
    if flagged_positions:
        roster.entries.filter(position__in=list(flagged_positions)).update(flagged=True)
    audit.record(
        AuditEvent.Kind.ROSTER_RETURN,
        actor=acting_user,
        target=roster,
        changes={"reason": roster.return_reason, "flagged": sorted(flagged_positions)},
        request=request,
    )
    return roster


@transaction.atomic
def reopen_filing(institution, exam_year, *, until, reason: str, acting_user, request=None) -> FilingReopening:
    """Let one institution submit after the window closed (recorded, with a reason)."""
    _require_supervisor(acting_user, institution)
    if until < timezone.localdate():
        raise ValidationError(_("The new deadline is in the past."), code="until")
    reopening = FilingReopening.objects.create(
        institution=institution, exam_year=exam_year, until=until, reason=reason, granted_by=acting_user
    )
    audit.record(
        AuditEvent.Kind.FILING_REOPEN,
        actor=acting_user,
        target=institution,
        changes={"exam_year": exam_year.year, "until": str(until), "reason": reason},
        request=request,
    )
    return reopening


def rosters_for(user):
    """Rosters of institutions the user may see."""
    return scope_for(user).filter_by_institution(Roster.objects.all())


def can_review(user, roster) -> bool:
    return user.office_id is not None and scope_for(user).has_office_perm(MANAGE_OFFICE, roster.institution.office)


def allowed_for(user, roster) -> set[str]:
    """The transitions this user may take on this roster now (for showing buttons; the actions check again)."""
    possible = workflow.allowed_actions(roster.status)
    if user.institution_id == roster.institution_id:
        return possible & workflow.INSTITUTION_ACTIONS
    if can_review(user, roster):
        return possible & workflow.OFFICE_ACTIONS
    return set()
