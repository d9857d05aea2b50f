"""The audit trail page: every recorded event of the region, filterable and exportable.

Two tabs over the two sources (reports/audit_trail.py): application events (logins and failed logins, account
actions, roster steps, exports, full ID views, verifications, lookups...) and data changes (every insert or update
of institutions, trainees and probation records, with old and new values). For superusers and the accounts of a
region office (its auditors included); nothing here changes or deletes an event. Exports are audited themselves.
"""

import json

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from accounts import audit
from accounts.models import AuditEvent, User
from hbwsrc.pagination import CappedPaginator
from hbwsrc.widgets import DateInput
from institutions.scope import VIEW_OFFICE, scope_for
from reports import audit_trail
from trainees.exports import csv_bytes, file_response

#: Exports stop at this many events (a narrower filter gets the rest).
EXPORT_LIMIT = 50_000


class TrailFilterForm(forms.Form):
    actor = forms.CharField(label=gettext_lazy("Account"), required=False, max_length=150)
    obj = forms.CharField(label=gettext_lazy("Object"), required=False, max_length=200)
    since = forms.DateField(label=gettext_lazy("From"), required=False, widget=DateInput())
    until = forms.DateField(label=gettext_lazy("To"), required=False, widget=DateInput())


class EventFilterForm(TrailFilterForm):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("All kinds")), *AuditEvent.Kind.choices]


class ChangeFilterForm(TrailFilterForm):
    model = forms.ChoiceField(label=gettext_lazy("Kind"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [("", _("All data changes"))] + [
            (key, model._meta.verbose_name_plural) for key, model in audit_trail.TRACKED.items()
        ]


def _region_for(request):
    """The region whose trail the user may read (None: every region, for superusers); anyone else is refused."""
    user = request.user
    if user.is_superuser:
        return None
    office = user.office
    if office is None or office.parent_id is not None or not scope_for(user).has_office_perm(VIEW_OFFICE, office):
        raise PermissionDenied
    return office.region_id


def _filters(form) -> dict:
    return {name: value for name, value in form.cleaned_data.items() if value} if form.is_valid() else {}


def _query(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    return query.urlencode()


def _audit_export(request, what: str, filters: dict, rows: int, truncated: bool):
    audit.record(
        AuditEvent.Kind.EXPORT,
        actor=request.user,
        target=request.user.office,
        changes={
            "export": what,
            "filter": {name: str(value) for name, value in filters.items()},
            "rows": rows,
            "truncated": truncated,
            "format": "csv",
        },
        request=request,
    )


def _stamp() -> str:
    return timezone.localtime().strftime("%Y%m%d-%H%M")


def filter_events(region_id, filters):
    events = AuditEvent.objects.all()
    if region_id is not None:
        events = events.filter(audit_trail.audit_events_in_region(region_id))
    if actor := filters.get("actor"):
        events = events.filter(actor_username__iexact=actor.strip())
    if obj := filters.get("obj"):
        events = events.filter(Q(target_id=obj.strip()) | Q(target_label__icontains=obj.strip()))
    if kind := filters.get("kind"):
        events = events.filter(kind=kind)
    if since := filters.get("since"):
        events = events.filter(at__gte=audit_trail.day_start(since))
    if until := filters.get("until"):
        events = events.filter(at__lt=audit_trail.day_start(until, next_day=True))
    return events.order_by("-at", "-pk")


@never_cache
@login_required
def audit_events(request):
    region_id = _region_for(request)
    form = EventFilterForm(request.GET)
    filters = _filters(form)
    events = filter_events(region_id, filters)
    if request.GET.get("export") == "csv":
        chosen = list(events.select_related("actor")[: EXPORT_LIMIT + 1])
        truncated = len(chosen) > EXPORT_LIMIT
        chosen = chosen[:EXPORT_LIMIT]
        _audit_export(request, "audit_events", filters, len(chosen), truncated)
        headers = [_("Time"), _("Account"), _("Kind"), _("Object type"), _("Object"), _("Object id"), _("Details")]
        headers.append(_("IP address"))
        rows = (
            (
                timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S"),
                event.actor_username,
                event.get_kind_display(),
                event.target_type,
                event.target_label,
                event.target_id,
                json.dumps(event.changes, ensure_ascii=False, sort_keys=True) if event.changes else "",
                event.ip_address or "",
            )
            for event in chosen
        )
        return file_response(csv_bytes(headers, rows), f"audit-events-{_stamp()}.csv", "csv")
    page = CappedPaginator(events, 50).get_page(request.GET.get("page"))
    for event in page:
        event.readable_changes = audit_trail.readable_audit_changes(event)
    return render(request, "reports/audit_events.html", {"form": form, "page": page, "query": _query(request)})


def _changes(region_id, filters):
    actor_id = None
    if username := filters.get("actor"):
        account = User.objects.filter(username__iexact=username.strip()).first()
        actor_id = account.pk if account else 0  # no such account: no event matches
    keys = [filters["model"]] if filters.get("model") else list(audit_trail.TRACKED)
    return audit_trail.data_changes(
        keys,
        region_id,
        actor_id=actor_id,
        obj=filters.get("obj", ""),
        since=filters.get("since"),
        until=filters.get("until"),
    )


@never_cache
@login_required
def data_changes(request):
    region_id = _region_for(request)
    form = ChangeFilterForm(request.GET)
    filters = _filters(form)
    rows = _changes(region_id, filters)
    if request.GET.get("export") == "csv":
        chosen = list(rows[: EXPORT_LIMIT + 1])
        truncated = len(chosen) > EXPORT_LIMIT
        changes = audit_trail.describe_rows(chosen[:EXPORT_LIMIT])
        _audit_export(request, "data_changes", filters, len(changes), truncated)
        headers = [_("Time"), _("Account"), _("Kind"), _("Object"), _("Object id"), _("Action")]
        headers += [_("Field"), _("Before"), _("After")]
        lines = (
            (
                timezone.localtime(change.at).strftime("%Y-%m-%d %H:%M:%S"),
                change.actor.username if change.actor else "",
                change.model_name,
                change.object_label,
                change.object_id,
                change.action,
                label,
                old if old is not None else "",
                new if new is not None else "",
            )
            for change in changes
            for label, old, new in change.changes or [("", None, None)]
        )
        return file_response(csv_bytes(headers, lines), f"data-changes-{_stamp()}.csv", "csv")
    page = CappedPaginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/audit_changes.html",
        {"form": form, "page": page, "changes": audit_trail.describe_rows(page), "query": _query(request)},
    )
