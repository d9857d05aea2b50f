"""The filing dashboard of an office, its drill-down to sub-offices and the list of institutions yet to submit."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts import audit
from accounts.models import AuditEvent
from hbwsrc.db import get_or_404
from institutions.models import Office
from institutions.scope import VIEW_OFFICE, scope_for
from reports import charts, dashboard
from reports.models import Roster
from trainees.exports import SheetSpec, csv_bytes, file_response, xlsx_bytes
from trainees.models import current_exam_year


def _office_for(request, public_id=None) -> Office:
    """The user's own office, or an office beneath it; offices elsewhere are not found, institutions are refused."""
    user = request.user
    if user.office_id is None:
        raise PermissionDenied
    scope = scope_for(user)
    if public_id is None:  # the account's own, read with its session
        if not scope.has_office_perm(VIEW_OFFICE, user.office):
            raise Http404
        return user.office
    office = get_or_404(scope.offices(), public_id=public_id)
    if office.region_id == user.office.region_id:  # a subtree keeps to its region: the account's, read with its session
        office.region = user.office.region
    return office


@never_cache
@login_required
def dashboard_view(request, public_id=None):
    office = _office_for(request, public_id)
    exam_year = current_exam_year(office.region)
    context = {"office": office, "exam_year": exam_year, "crumbs": scope_for(request.user).offices_above(office)}
    if exam_year is not None:
        board = dashboard.current(office, exam_year)
        context.update(
            board=board,
            progress_chart=charts.filing_progress(board.office_rows),
            daily_chart=charts.daily_entries(board.daily),
            refresh_seconds=settings.DASHBOARD_CACHE_SECONDS,
        )
    return render(request, "reports/dashboard.html", context)


EXPORT_HEADERS = (
    lambda: _("Institution"),
    lambda: _("Supervising office"),
    lambda: _("Contact person"),
    lambda: _("Contact phone"),
    lambda: _("Master account"),
    lambda: _("Master account holder"),
    lambda: _("Master account phone"),
    lambda: _("Records this year"),
    lambda: _("Roster status"),
)


def _export(request, office, exam_year, institutions, fmt):
    statuses = dict(Roster.Status.choices)
    rows = [
        (
            institution.name,
            institution.office.name,
            institution.contact_person,
            institution.contact_phone,
            institution.master_username or "",
            institution.master_name or "",
            institution.master_phone or "",
            institution.records_count,
            str(statuses.get(institution.filing_status, _("Not started"))),
        )
        for institution in institutions
    ]
    headers = [header() for header in EXPORT_HEADERS]
    audit.record(
        AuditEvent.Kind.EXPORT,
        actor=request.user,
        target=office,
        changes={"export": "not_submitted", "exam_year": exam_year.year, "format": fmt, "rows": len(rows)},
        request=request,
    )
    filename = f"{exam_year.year}-not-submitted-{timezone.localdate():%Y%m%d}.{fmt}"
    if fmt == "xlsx":
        sheet = SheetSpec(
            _("Not submitted"), headers, rows, text_columns={3, 6}, widths=[36, 20, 12, 16, 16, 14, 16, 10, 12]
        )
        return file_response(xlsx_bytes([sheet]), filename, fmt)
    return file_response(csv_bytes(headers, rows), filename, fmt)


@never_cache
@login_required
def not_submitted_view(request, public_id):
    """Institutions beneath the office that have not submitted this year's roster, with their contacts."""
    office = _office_for(request, public_id)
    exam_year = current_exam_year(office.region)
    if exam_year is None:
        return render(request, "reports/not_submitted.html", {"office": office, "exam_year": None})
    institutions = dashboard.not_submitted(office, exam_year)
    fmt = request.GET.get("export")
    if fmt in ("csv", "xlsx"):
        return _export(request, office, exam_year, institutions, fmt)
    page = Paginator(institutions, 50).get_page(request.GET.get("page"))
    today = timezone.localdate()
    return render(
        request,
        "reports/not_submitted.html",
        {
            "office": office,
            "exam_year": exam_year,
            "page": page,
            "crumbs": scope_for(request.user).offices_above(office),
            "days_left": (exam_year.filing_closes - today).days,
            "statuses": dict(Roster.Status.choices),
        },
    )
