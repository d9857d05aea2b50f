from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from hbwsrc.db import get_or_404
from hbwsrc.pagination import rows_as_values
from hbwsrc.routers import read_only
from hbwsrc.search import text_contains
from institutions.scope import scope_for
from reports import actions
from reports.forms import FilingFilterForm, ReopenForm, ReturnForm, ScanForm
from reports.models import Roster, RosterEntry, institutions_filing_as
from trainees.models import current_exam_year


def _roster_for(request, public_id) -> Roster:
    rosters = actions.rosters_for(request.user).select_related("institution__office", "exam_year")
    return get_or_404(rosters, public_id=public_id)


def _current_year(region):
    year = current_exam_year(region)
    if year is None:
        raise Http404(_("No current exam year."))
    return year


# What the draft roster shows of a record (trainees.templatetags.record_rows.draft_roster_rows, roster_home.html),
# read as values: three model instances a record were a third of the page (bench/README.md, stop 20).
DRAFT_COLUMNS = (
    "public_id", "person__name", "person__id_number", "category__name", "start_date", "end_date",
)  # fmt: skip


@never_cache
@login_required
def roster_home(request):
    """The institution's filing page: the draft roster for the current year and every version so far."""
    institution = request.user.institution
    if institution is None:
        return redirect("reports:filing_list")
    exam_year = current_exam_year(institution.region)
    context = {"institution": institution, "exam_year": exam_year}
    if exam_year is not None:
        qualifying, refused = actions.draft_rows(institution, exam_year, DRAFT_COLUMNS)
        rosters = Roster.objects.filter(institution=institution, exam_year=exam_year).order_by("-version")
        context.update(
            qualifying=qualifying,
            refused=refused,
            rosters=rosters,
            filing_open=actions.filing_open(institution, exam_year),
            open_roster=next((r for r in rosters if r.locks_records), None),
        )
    return render(request, "reports/roster_home.html", context)


@login_required
@require_POST
def roster_finalise(request):
    institution = request.user.institution
    if institution is None:
        raise PermissionDenied
    exam_year = _current_year(institution.region)
    try:
        roster = actions.finalise(institution, exam_year, acting_user=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("reports:roster_home")
    messages.success(
        request, _("Roster version %(version)s finalised; its PDF is being rendered.") % {"version": roster.version}
    )
    return redirect(roster)


def _previous_version(roster):
    return (
        Roster.objects.current_first(roster.institution, roster.exam_year).filter(version__lt=roster.version).first()
    )


def compare_versions(previous, current, current_entries=None) -> dict:
    """Who was added, removed or changed between two versions, keyed by the person's ID number (``current``'s
    entries as read already, if they are)."""
    if previous is None:
        return {"added": [], "removed": [], "changed": []}
    before = {e.id_number: e for e in previous.entries.all()}
    after = {e.id_number: e for e in (current.entries.all() if current_entries is None else current_entries)}
    changed = []
    for number in before.keys() & after.keys():
        differences = [
            (
                RosterEntry._meta.get_field(name).verbose_name,
                getattr(before[number], name),
                getattr(after[number], name),
            )
            for name in RosterEntry.COMPARED_FIELDS
            if getattr(before[number], name) != getattr(after[number], name)
        ]
        if differences:
            changed.append((after[number], differences))
    return {
        "added": [after[n] for n in sorted(after.keys() - before.keys())],
        "removed": [before[n] for n in sorted(before.keys() - after.keys())],
        "changed": sorted(changed, key=lambda item: item[0].position),
    }


@never_cache
@login_required
def roster_detail(request, public_id):
    roster = _roster_for(request, public_id)
    user = request.user
    is_own = user.institution_id == roster.institution_id
    previous = _previous_version(roster)
    entries = list(roster.entries.all())
    allowed = actions.allowed_for(user, roster)
    return render(
        request,
        "reports/roster_detail.html",
        {
            "roster": roster,
            "entries": entries,
            "markable": "return" in allowed,
            "previous": previous,
            "diff": compare_versions(previous, roster, entries),
            "is_own": is_own,
            "actions": allowed,
            "scan_form": ScanForm() if is_own else None,
        },
    )


@login_required
def roster_status(request, public_id):
    roster = _roster_for(request, public_id)
    return JsonResponse({"pdf_state": roster.pdf_state, "pages": roster.pdf_pages, "status": roster.status})


@login_required
def roster_pdf(request, public_id):
    roster = _roster_for(request, public_id)
    if roster.pdf_state != Roster.PdfState.READY or not roster.pdf:
        raise Http404(_("The PDF is not ready yet."))
    filename = f"{roster.exam_year.year}-roster-v{roster.version}.pdf"
    return FileResponse(roster.pdf.open("rb"), content_type="application/pdf", filename=filename)


@login_required
def roster_scan(request, public_id):
    roster = _roster_for(request, public_id)
    if request.method == "POST":
        form = ScanForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                actions.attach_scan(
                    roster,
                    form.cleaned_data["scan"],
                    content_type=form.content_type,
                    digest=form.digest,
                    acting_user=request.user,
                    request=request,
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("The stamped scan was uploaded."))
        else:
            messages.error(request, " ".join(form.errors["scan"]))
        return redirect(roster)
    if not roster.scan:
        raise Http404(_("No scan uploaded."))
    return FileResponse(roster.scan.open("rb"), content_type=roster.scan_content_type)


@login_required
@require_POST
def roster_transition(request, public_id, action):
    roster = _roster_for(request, public_id)
    try:
        if action == "cancel":
            actions.cancel(roster, acting_user=request.user, request=request)
        elif action == "submit":
            actions.submit(roster, acting_user=request.user, request=request)
        elif action == "accept":
            actions.accept(roster, acting_user=request.user, request=request)
        elif action == "return":
            form = ReturnForm(request.POST, roster=roster)
            if not form.is_valid():
                messages.error(request, _("Give the reason for returning the roster."))
                return redirect(roster)
            actions.return_roster(
                roster,
                reason=form.cleaned_data["reason"],
                flagged_positions=form.cleaned_data["flagged"],
                acting_user=request.user,
                request=request,
            )
        else:
            raise Http404
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Done."))
    return redirect(roster)


# What the filing list shows of an institution (reports.templatetags.rosters.filing_rows), read as values: two model
# instances a row, and the office they name joined into the count, were a fifth of the page (bench/README.md,
# stop 20).
FILING_COLUMNS = ("pk", "public_id", "name", "office__name", "contact_person", "contact_phone")


def _with_current_rosters(rows, exam_year) -> list[dict]:
    """The filing list's ``rows`` (FILING_COLUMNS) with their institution's current roster for ``exam_year``:
    ``filing_status``, ``roster_id`` and ``roster_version``, None where it has none.

    Read for the page's institutions in one query, after the page: as three subqueries of the page's own query, the
    current roster was looked up three times a row and composed three times a request."""
    if not rows:
        return rows
    current = Roster.objects.current_of([row["pk"] for row in rows], exam_year)
    rosters = {pk: rest for pk, *rest in current.values_list("institution", "status", "public_id", "version")}
    for row in rows:
        row["filing_status"], row["roster_id"], row["roster_version"] = rosters.get(row["pk"], (None, None, None))
    return rows


@login_required
@read_only
def filing_list(request):
    """An office's view of its subtree's filings for the current year, by status."""
    office = request.user.office
    if office is None:
        raise PermissionDenied
    exam_year = _current_year(office.region)
    institutions = scope_for(request.user).institutions().in_tree_order()
    form = FilingFilterForm(request.GET)
    if form.is_valid():
        if q := form.cleaned_data["q"].strip():
            institutions = institutions.filter(text_contains("name", q))
        status = form.cleaned_data["status"]
        if status == "none":
            institutions = institutions.filter(~Exists(Roster.objects.current_first(OuterRef("pk"), exam_year)))
        elif status:
            institutions = institutions.filter(pk__in=institutions_filing_as(exam_year, status))
    page = rows_as_values(Paginator(institutions, 50).get_page(request.GET.get("page")), *FILING_COLUMNS)
    page.object_list = _with_current_rosters(list(page.object_list), exam_year)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "reports/filing_list.html",
        {"page": page, "form": form, "exam_year": exam_year, "query": query.urlencode()},
    )


@login_required
def filing_reopen(request, institution_id):
    institution = get_or_404(scope_for(request.user).institutions(), public_id=institution_id)
    if request.user.office_id is None:
        raise PermissionDenied
    exam_year = _current_year(institution.region)
    form = ReopenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.reopen_filing(
                institution, exam_year, acting_user=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Filing reopened for %(name)s.") % {"name": institution.name})
            return redirect("reports:filing_list")
    return render(
        request, "reports/filing_reopen.html", {"form": form, "institution": institution, "exam_year": exam_year}
    )
