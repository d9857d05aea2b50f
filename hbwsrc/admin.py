"""The admin site (/admin/): a read-only window on an exam region for its auditors, and the few settings superusers
keep (exam years, exam categories, new regions and their first accounts).

Who gets in: superusers, and auditors: staff accounts of a region office (the root of a region's tree) holding
``view_office`` there. An auditor reads everything of his own region and nothing of another: every ModelAdmin
scopes its rows by region (``ReadOnlyAdmin.region_lookup``), and so do the list filters that name offices or exam
years. Nobody changes or deletes data here: apart from what superusers configure, every page is a view page, there
are no bulk actions, and the history of an object is shown, never reverted (django-pghistory's admin is not
installed). Office and institution accounts never get in: the admin's login page tells them they are not allowed.
Beside the record list (``trainees.admin``) auditors and superusers export what the list shows, audited like the
platform's exports, and superusers alone import a spreadsheet of records for an institution through the platform's
import (checked, confirmed, all or nothing).
Its logins go through the same lockout (django-axes' backend) and second factor (the middleware) as the platform's.
"""

from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from institutions.models import Office
from institutions.scope import VIEW_OFFICE, scope_for
from reports import audit_trail


def is_auditor(user) -> bool:
    """A staff account of a region office that may view that office (and so its whole region)."""
    return bool(
        user.is_active
        and user.is_staff
        and user.office_id
        and user.office.parent_id is None
        and scope_for(user).has_office_perm(VIEW_OFFICE, user.office)
    )


def admitted(user) -> bool:
    return user.is_active and (user.is_superuser or is_auditor(user))


def region_of(user):
    """The region an admin user reads: his office's, or None (every region) for superusers."""
    return None if user.is_superuser else user.office.region_id


class AuditAdminSite(admin.AdminSite):
    site_header = gettext_lazy("Probation platform: audit")
    site_title = gettext_lazy("Probation platform audit")
    index_title = gettext_lazy("The exam region's records")

    def has_permission(self, request):
        user = request.user
        verified = getattr(user, "is_verified", lambda: False)()  # passed the second factor (django-otp)
        return user.is_authenticated and admitted(user) and verified

    def password_change(self, request, extra_context=None):
        return redirect("accounts:password_change")


site = AuditAdminSite(name="admin")


# --- list filters that name only the auditor's region's offices and years -----------------------------------------


class OfficeSubtreeFilter(admin.SimpleListFilter):
    """Rows at or beneath one office of the region (``path_lookups``: where the row's path is)."""

    title = gettext_lazy("office")
    parameter_name = "office"
    path_lookups = ("path",)

    def lookups(self, request, model_admin):
        offices = Office.objects.order_by("path")
        if (region_id := region_of(request.user)) is not None:
            offices = offices.filter(region_id=region_id)
        return [(str(office.public_id), "\u3000" * office.depth + office.name) for office in offices]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        offices = Office.objects.all()
        if (region_id := region_of(request.user)) is not None:
            offices = offices.filter(region_id=region_id)
        try:
            office = offices.filter(public_id=self.value()).first()
        except ValidationError:
            office = None
        if office is None:
            return queryset.none()
        condition = None
        for lookup in self.path_lookups:
            term = Q(**{f"{lookup}__subtree": office.path})
            condition = term if condition is None else condition | term
        return queryset.filter(condition)


def office_filter(*path_lookups):
    return type("OfficeFilter", (OfficeSubtreeFilter,), {"path_lookups": path_lookups})


class ExamYearFilter(admin.SimpleListFilter):
    title = gettext_lazy("exam year")
    parameter_name = "exam_year"
    lookup = "exam_year"

    def lookups(self, request, model_admin):
        from trainees.models import ExamYear

        years = ExamYear.objects.select_related("region").order_by("region", "-year")
        if (region_id := region_of(request.user)) is not None:
            return [(str(y.pk), str(y.year)) for y in years.filter(region_id=region_id)]
        return [(str(y.pk), f"{y.region} {y.year}") for y in years]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        if not self.value().isdigit():
            return queryset.none()
        return queryset.filter(**{f"{self.lookup}_id": int(self.value())})


# --- the base of every ModelAdmin ---------------------------------------------------------------------------------


class ReadOnlyAdmin(admin.ModelAdmin):
    """Scoped to the auditor's region, read-only for everyone (unless ``superuser_editable``), with each object's
    whole history (data changes with old and new values, audit events, admin changes) behind "History"."""

    #: How a row reaches its Region (None: data shared by every region).
    region_lookup = "region"
    superuser_editable = False
    actions = None
    list_per_page = 50
    show_full_result_count = False  # no second COUNT over big tables
    history_template = "admin/full_history.html"

    def in_region(self, queryset, region_id):
        if self.region_lookup is None:
            return queryset
        return queryset.filter(**{self.region_lookup: region_id})

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        region_id = region_of(request.user)
        return queryset if region_id is None else self.in_region(queryset, region_id)

    def has_module_permission(self, request):
        return self.admin_site.has_permission(request)

    def has_view_permission(self, request, obj=None):
        return self.admin_site.has_permission(request)

    def has_add_permission(self, request, *args):
        return self.superuser_editable and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return self.superuser_editable and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        changes, events = audit_trail.object_history(obj)
        for event in events:
            event.readable_changes = audit_trail.readable_audit_changes(event)
        admin_changes = LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
        ).select_related("user")
        context = {
            **self.admin_site.each_context(request),
            "title": _("History: %(object)s") % {"object": obj},
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "changes": changes,
            "events": events,
            "admin_changes": admin_changes.order_by("action_time"),
            **(extra_context or {}),
        }
        return TemplateResponse(request, self.history_template, context)


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their parent, read-only, scoped like the parent."""

    extra = 0
    can_delete = False
    show_change_link = True
    region_lookup = None

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        region_id = region_of(request.user)
        if region_id is None or self.region_lookup is None:
            return queryset
        return queryset.filter(**{self.region_lookup: region_id})

    def has_view_permission(self, request, obj=None):
        return self.admin_site.has_permission(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def change_message_with_values(form) -> str:
    """What a superuser changed, with the values before and after (for the admin's own log)."""
    parts = []
    for name in form.changed_data:
        label = form.fields[name].label or name
        parts.append(f"{label}: {form.initial.get(name, '')} → {form.cleaned_data.get(name, '')}")
    return "; ".join(parts)
