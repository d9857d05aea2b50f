import hashlib
from uuid import UUID

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from pghistory.models import MiddlewareEvents

from accounts import audit
from accounts.models import AuditEvent, User, account_label
from hbwsrc.composed import Composed, ComposedPer
from hbwsrc.db import AnyOf, scoped_row_or_404
from hbwsrc.pagination import CappedPaginator, CountedRows
from hbwsrc.routers import read_only
from hbwsrc.search import text_contains
from institutions.scope import MANAGE_RECORDS, scope_for
from trainees import actions, options
from trainees.forms import ExamYearForm, RecordFilterForm, RecordForm, WithdrawForm
from trainees.models import ExamYear, OverlapAttempt, ProbationRecord, eligibility_of, mask_id_number


def _scoped_record(scope, p):
    # Not withdrawn_by: only a withdrawn record shows it, and each table joined here about doubles the time
    # PostgreSQL spends choosing a join order (it tries them all up to eight tables): 3.2 ms of planning for a
    # 0.1 ms lookup with it, 1.4 ms without (bench/README.md). Of the account that entered the record only its
    # names are read (``entered_by``): its whole row took the ORM longer to compose than the rest, and made the
    # query too long for psycopg to keep its conversion (bench/README.md stop 27).
    return (
        scope.filter_by_institution(ProbationRecord.objects.all(), region="region")
        .select_related("person", "category", "exam_year", "institution__office")
        .annotate(creator_full_name=F("created_by__full_name"), creator_username=F("created_by__username"))
        .filter(public_id=p.public_id)
    )


_record_in_scope = ComposedPer(_scoped_record, public_id=UUID)


def _record_for(request, public_id) -> ProbationRecord:
    return scoped_row_or_404(_record_in_scope, scope_for(request.user), public_id=public_id)


def _entered_by(record) -> str | None:
    """The account that entered ``record`` (read by ``_record_for``), as pages name an account."""
    return account_label(record.creator_full_name, record.creator_username) if record.creator_username else None


def _entering_institution(request):
    """The institution whose records this account enters; offices enter none (谁试用、谁采集)."""
    institution = request.user.institution
    if institution is None or not scope_for(request.user).has_institution_perm(MANAGE_RECORDS, institution):
        raise PermissionDenied
    return institution


def _can_change(user, record) -> bool:
    return (
        not record.is_withdrawn
        and user.institution_id == record.institution_id
        and scope_for(user).has_institution_perm(MANAGE_RECORDS, record.institution)
        and record.exam_year.accepts_entries()
        and not record.is_locked
    )


def filter_records(user, params):
    """The record list's filters, shared by the list page and the exports: the records they keep, annotated with
    their eligibility only where it filters them; the page (``paginate_records``) and the export read what they show."""
    scope = scope_for(user)
    form = RecordFilterForm(params)
    options.offer(form.fields["exam_year"], options.exam_year_options(scope.region_ids()))
    options.offer(form.fields["category"], options.category_options())
    offices = options.office_rows(scope)
    options.offer(form.fields["office"], [(pk, name) for pk, name, _path in offices])
    records = ProbationRecord.objects.for_user(user)
    if not form.is_valid():
        return form, records.filter(withdrawn_at__isnull=True).order_by("-created_at")
    data = form.cleaned_data
    if q := data["q"].strip():
        records = records.search(q)
    for name in ("exam_year", "category", "result"):
        if data[name]:
            records = records.filter(**{name: data[name]})
    if data["eligibility"]:
        records = records.with_eligibility().filter(eligibility_status=data["eligibility"])
    if data["office"]:
        path = next(path for pk, _name, path in offices if pk == data["office"])
        records = records.filter(institution__path__subtree=path)
    if data["institution"]:
        # The account's institutions so named, read first: a region office's records are scoped by their region,
        # which the name's index knows nothing of, and a name part can match hundreds of institutions across the
        # country. Their ids, one array, leave the record queries without the name's LIKE, so they are prepared
        # rather than planned for each name (hbwsrc.db).
        named = scope.institutions().filter(text_contains("name", data["institution"]))
        records = records.filter(AnyOf(F("institution"), list(named.order_by().values_list("pk", flat=True))))
    if not data["withdrawn"]:
        records = records.filter(withdrawn_at__isnull=True)
    return form, records.order_by(data["sort"] or "-created_at", "pk")


# What trainees/record_list.html shows of a record and its joined rows (trainees.templatetags.record_rows), read
# as values: no more is read, and no model instance made (five a row took 1.3 ms of a list, bench/README.md stop 19).
LIST_COLUMNS = (
    "pk", "public_id", "start_date", "end_date", "result", "is_fresh_graduate", "withdrawn_at",
    "person__name", "person__id_number", "institution__name", "exam_year__year", "category__name",
    "eligibility_status",
)  # fmt: skip
# The rows of a page's records, by their ids (one array parameter): composed once per process (hbwsrc.composed),
# as composing the five tables and the eligibility subquery cost the ORM more than PostgreSQL took to run them.
_list_rows = Composed(
    lambda p: ProbationRecord.objects.with_eligibility().filter(AnyOf(F("pk"), p.ids)).order_by().values(*LIST_COLUMNS),
    ids=list,
)


def _size_key(user, form) -> str:
    """The name under which the size of the list ``form`` filters for ``user`` is remembered (CappedPaginator): the
    account, what it sees, and the filters as understood, hashed (a search may be an ID number)."""
    filters = form.cleaned_data if form.is_valid() else {}
    named = sorted((name, str(getattr(value, "pk", value))) for name, value in filters.items())
    text = repr((user.pk, scope_for(user).seen(), named))
    return "records:size:" + hashlib.sha256(text.encode()).hexdigest()


def paginate_records(records, number, size_key=None):
    """One page of 50 of the user's ``records`` (``filter_records``, scoped to what the user sees): the ids first,
    then the page's rows (LIST_COLUMNS) with their eligibility.

    Counting and ordering only primary keys lets PostgreSQL answer from the records' (institution, created_at)
    index alone, so a region office's list costs one index pass over its own records, not a sort of full rows
    (bench/EXPLAIN.md). The rows are read by the ids the scoped list gave, without its filters or its scope again:
    the planner would otherwise plan the search a second time, and may start from it rather than from 50 ids; and a
    subtree's range kept PostgreSQL from the prepared query's generic plan, planning it on every request (a county
    office's list at nation scale: 3.6 ms of PostgreSQL's time for that query, 1.5 without; bench/README.md stop 26).
    ``size_key`` names the list for the paginator to remember as past the count's cap or under it; under it, the
    ids come with their count in one query (CountedRows).
    """
    listed = records.values_list("pk", flat=True)
    page = CappedPaginator(listed, 50, size_key=size_key, counted_list=CountedRows.of(listed)).get_page(number)
    ids = list(page.object_list)
    rows = {row["pk"]: row for row in _list_rows(ids=ids)} if ids else {}
    page.object_list = [rows[pk] for pk in ids if pk in rows]  # one deleted meanwhile is left out
    return page


@login_required
@read_only
def record_list(request):
    form, records = filter_records(request.user, request.GET)
    page = paginate_records(records, request.GET.get("page"), _size_key(request.user, form))
    query = request.GET.copy()
    query.pop("page", None)
    institution = request.user.institution
    return render(
        request,
        "trainees/record_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "can_create": institution is not None
            and scope_for(request.user).has_institution_perm(MANAGE_RECORDS, institution),
            "is_office": request.user.office_id is not None,
        },
    )


@login_required
def record_detail(request, public_id):
    record = _record_for(request, public_id)
    audit.record(AuditEvent.Kind.FULL_ID_VIEW, actor=request.user, target=record, request=request)
    [eligibility] = eligibility_of(
        person=record.person_id, exam_years=[record.exam_year_id], categories=[record.category_id]
    ) or [None]
    return render(
        request,
        "trainees/record_detail.html",
        {
            "record": record,
            "entered_by": _entered_by(record),
            "eligibility": eligibility,
            "category_mismatch": record.category_mismatch(),
            "can_change": _can_change(request.user, record),
        },
    )


def _save(request, form):
    """Validate and save ``form``; on failure keep the input and report what is wrong."""
    if not form.is_valid():
        if form.overlap is not None:
            actions.log_overlap_attempt(form, acting_user=request.user)
        return None
    try:
        return actions.save_record(form, acting_user=request.user)
    except ValidationError as error:
        form.add_error(None, error)
        return None


@never_cache
@login_required
def record_create(request):
    institution = _entering_institution(request)
    if not institution.profile_complete:
        if request.method == "POST":
            raise PermissionDenied
        return render(request, "trainees/profile_incomplete.html", {"institution": institution})
    form = RecordForm(request.POST or None, institution=institution)
    if request.method == "POST" and (record := _save(request, form)):
        messages.success(request, _("Record of %(name)s saved.") % {"name": record.person.name})
        return redirect(record)
    return render(request, "trainees/record_form.html", {"form": form, "institution": institution})


@never_cache
@login_required
def record_edit(request, public_id):
    record = _record_for(request, public_id)
    if not _can_change(request.user, record):
        raise PermissionDenied
    form = RecordForm(request.POST or None, instance=record, institution=record.institution)
    if request.method == "POST" and (saved := _save(request, form)):
        messages.success(request, _("Changes saved."))
        return redirect(saved)
    return render(request, "trainees/record_form.html", {"form": form, "record": record})


@login_required
@require_http_methods(["GET", "POST"])
def record_withdraw(request, public_id):
    record = _record_for(request, public_id)
    if not _can_change(request.user, record):
        raise PermissionDenied
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.withdraw_record(record, reason=form.cleaned_data["reason"], acting_user=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The record was withdrawn."))
            return redirect(record)
    return render(request, "trainees/record_withdraw.html", {"form": form, "record": record})


@login_required
def record_history(request, public_id):
    record = _record_for(request, public_id)
    # pghistory's tracks() takes objects of one model only: query the record's and the person's events apart.
    events = sorted(
        [*MiddlewareEvents.objects.tracks(record), *MiddlewareEvents.objects.tracks(record.person)],
        key=lambda event: (event.pgh_created_at, event.pgh_id),
    )
    user_ids = {e.pgh_context.get("user") for e in events if e.pgh_context}
    users = User.objects.in_bulk([pk for pk in user_ids if pk])
    for event in events:
        event.actor = users.get((event.pgh_context or {}).get("user"))
        event.changes = _readable_changes(event)
    # A person may train at several institutions: show only the person changes made from this record's
    # institution, never another institution's (nor who there made them).
    events = [
        event
        for event in events
        if event.pgh_obj_model != "trainees.Person"
        or (event.actor is not None and event.actor.institution_id == record.institution_id)
    ]
    return render(request, "trainees/record_history.html", {"record": record, "events": events})


HIDDEN_HISTORY_FIELDS = {"id", "public_id", "created_at", "updated_at", "pgh_obj", "person", "institution"}


def _readable_changes(event):
    """(field label, old, new) for each changed field; a creation lists every value it set."""
    model = apps.get_model(event.pgh_obj_model)
    rows = []
    if event.pgh_label == "insert":
        items = ((name, None, value) for name, value in event.pgh_data.items())
    else:
        items = ((name, old_new[0], old_new[1]) for name, old_new in (event.pgh_diff or {}).items())
    for name, old, new in items:
        field_name = name.removesuffix("_id")
        if field_name in HIDDEN_HISTORY_FIELDS or name in HIDDEN_HISTORY_FIELDS:
            continue
        if name == "id_number":  # full ID numbers only on the record page itself
            old, new = (mask_id_number(v) if isinstance(v, str) else v for v in (old, new))
        try:
            label = model._meta.get_field(field_name).verbose_name
        except FieldDoesNotExist:  # a field since removed from the model
            label = name
        rows.append((label, old, new))
    return rows


@login_required
def conflict_list(request):
    """Refused overlapping entries involving an institution in the office's subtree."""
    scope = scope_for(request.user)
    if request.user.office_id is None:
        raise PermissionDenied
    attempts = OverlapAttempt.objects.select_related(
        "institution__office", "conflicting_record__institution__office", "attempted_by"
    )
    visible = (
        scope.filter_by_institution(OverlapAttempt.objects.all(), "institution__")
        .values("pk")
        .union(
            scope.filter_by_institution(OverlapAttempt.objects.all(), "conflicting_record__institution__").values("pk")
        )
    )
    attempts = attempts.filter(pk__in=visible).order_by("-at")
    page = Paginator(attempts, 50).get_page(request.GET.get("page"))
    return render(request, "trainees/conflict_list.html", {"page": page})


def _configurable_region(request):
    office = request.user.office
    if office is None or not scope_for(request.user).can_configure_region(office.region):
        raise PermissionDenied
    return office.region


@login_required
def exam_year_list(request):
    region = _configurable_region(request)
    years = ExamYear.objects.filter(region=region).order_by("-year")
    return render(request, "trainees/exam_year_list.html", {"years": years, "region": region})


@login_required
def exam_year_edit(request, public_id=None):
    region = _configurable_region(request)
    exam_year = get_object_or_404(ExamYear, region=region, public_id=public_id) if public_id else None
    if exam_year and exam_year.year < actions.current_year_number(region):
        raise PermissionDenied
    form = ExamYearForm(request.POST or None, instance=exam_year, region=region)
    if request.method == "POST" and form.is_valid():
        try:
            saved = actions.save_exam_year(form.save(commit=False), acting_user=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The %(year)s exam year was saved.") % {"year": saved.year})
            return redirect("trainees:exam_years")
    return render(request, "trainees/exam_year_form.html", {"form": form, "exam_year": exam_year})
