from django.contrib import admin
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper
from django.utils.translation import gettext_lazy as _

from accounts import audit
from accounts.models import AuditEvent
from hbwsrc.admin import ReadOnlyAdmin, office_filter, site
from institutions.models import PROFILE_COMPLETE, Institution, Office, Region


@admin.register(Region, site=site)
class RegionAdmin(ReadOnlyAdmin):
    """Superusers open a new exam region here: its region office (the root of its tree) is created with it."""

    region_lookup = "pk"
    list_display = ("name", "division_code")
    search_fields = ("name", "division_code")

    def has_add_permission(self, request, *args):
        return request.user.is_superuser

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        office = Office.objects.create(
            region=obj, name=obj.name, kind=Office.Kind.REGION, division_code=obj.division_code
        )
        audit.record(AuditEvent.Kind.OFFICE_CREATE, actor=request.user, target=office, request=request)


@admin.register(Office, site=site)
class OfficeAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "division_code", "parent", "contact_person", "contact_phone")
    list_filter = ("kind", office_filter("path"))
    search_fields = ("name", "division_code", "contact_person")
    list_select_related = ("parent",)
    ordering = ("path",)
    date_hierarchy = "created_at"


class ProfileCompleteFilter(admin.SimpleListFilter):
    title = _("profile")
    parameter_name = "profile"

    def lookups(self, request, model_admin):
        return [("complete", _("Complete")), ("incomplete", _("Incomplete"))]

    def queryset(self, request, queryset):
        if self.value() == "complete":
            return queryset.filter(PROFILE_COMPLETE)
        if self.value() == "incomplete":
            return queryset.exclude(PROFILE_COMPLETE)
        return queryset


@admin.register(Institution, site=site)
class InstitutionAdmin(ReadOnlyAdmin):
    list_display = ("name", "office", "category", "level", "grade", "profile_is_complete", "uscc", "contact_person")
    list_display += ("contact_phone", "created_at")
    list_filter = (office_filter("path"), ProfileCompleteFilter, "category", "level", "ownership", "profit_status")
    search_fields = ("name", "=uscc", "licence_number", "contact_person")
    list_select_related = ("office",)
    date_hierarchy = "created_at"
    exclude = ("path",)

    def get_queryset(self, request):
        complete = ExpressionWrapper(PROFILE_COMPLETE, output_field=BooleanField())
        return super().get_queryset(request).annotate(complete=complete)

    @admin.display(boolean=True, description=_("profile complete"), ordering="complete")
    def profile_is_complete(self, obj):
        return obj.complete
