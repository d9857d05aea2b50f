from django.contrib import admin
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from hbwsrc.admin import ExamYearFilter, ReadOnlyAdmin, ReadOnlyInline, change_message_with_values, office_filter, site
from reports.models import Roster, RosterEntry
from trainees.models import ExamCategory, ExamYear, OverlapAttempt, Person, ProbationRecord, mask_id_number


@admin.register(ExamYear, site=site)
class ExamYearAdmin(ReadOnlyAdmin):
    """Superusers set the years' dates here; making a year current makes the region's other years not current."""

    superuser_editable = True
    list_display = ("region", "year", "is_current", "entry_opens", "entry_closes", "filing_opens", "filing_closes")
    list_display += ("cutoff",)
    list_filter = ("is_current",)
    ordering = ("region", "-year")

    def get_list_filter(self, request):
        return ("region", *self.list_filter) if request.user.is_superuser else self.list_filter

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        if obj.is_current:
            ExamYear.objects.filter(region=obj.region, is_current=True).exclude(pk=obj.pk).update(is_current=False)
        super().save_model(request, obj, form, change)

    def construct_change_message(self, request, form, formsets, add=False):
        return (
            super().construct_change_message(request, form, formsets, add) if add else change_message_with_values(form)
        )


@admin.register(ExamCategory, site=site)
class ExamCategoryAdmin(ReadOnlyAdmin):
    superuser_editable = True
    region_lookup = None  # one list for every region
    list_display = ("code", "name", "level", "category_class", "is_active")
    list_filter = ("level", "category_class", "is_active")
    search_fields = ("code", "name")

    def construct_change_message(self, request, form, formsets, add=False):
        return (
            super().construct_change_message(request, form, formsets, add) if add else change_message_with_values(form)
        )


class RecordInline(ReadOnlyInline):
    model = ProbationRecord
    region_lookup = "institution__region"
    fields = ("institution", "exam_year", "category", "start_date", "end_date", "result", "withdrawn_at")
    readonly_fields = fields


@admin.register(Person, site=site)
class PersonAdmin(ReadOnlyAdmin):
    """Trainees with a record in the region. ID numbers are shown masked (searching by the whole number works):
    viewing them whole is an audited action of the platform's record page."""

    list_display = ("name", "masked_id", "id_type", "sex", "birth_date", "education", "school", "created_at")
    list_filter = ("sex", "education", "id_type")
    search_fields = ("name", "=id_number")
    date_hierarchy = "created_at"
    fields = ("name", "masked_id", "id_type", "sex", "birth_date", "education", "school", "major", "graduation_date")
    fields += ("created_at",)
    readonly_fields = ("masked_id", "created_at")
    inlines = (RecordInline,)

    def in_region(self, queryset, region_id):
        records = ProbationRecord.objects.filter(person=OuterRef("pk"), institution__region_id=region_id)
        return queryset.filter(Exists(records))

    @admin.display(description=_("ID number"))
    def masked_id(self, obj):
        return obj.masked_id_number


class LockedFilter(admin.SimpleListFilter):
    title = _("locked by a roster")
    parameter_name = "locked"

    def lookups(self, request, model_admin):
        return [("yes", _("Locked")), ("no", _("Not locked"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(locked=self.value() == "yes")
        return queryset


class WithdrawnFilter(admin.SimpleListFilter):
    title = _("withdrawn")
    parameter_name = "withdrawn"

    def lookups(self, request, model_admin):
        return [("no", _("Active")), ("yes", _("Withdrawn"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(withdrawn_at__isnull=self.value() == "no")
        return queryset


@admin.register(ProbationRecord, site=site)
class ProbationRecordAdmin(ReadOnlyAdmin):
    """Read-only for everyone, superusers included: a record changes only through the platform's workflow, and a
    record on a finalised, submitted or filed roster not even there (the database refuses)."""

    region_lookup = "institution__region"
    list_display = ("person", "masked_id", "institution", "exam_year", "category", "result", "start_date", "end_date")
    list_display += ("is_locked_now", "withdrawn_at", "created_at")
    list_filter = (ExamYearFilter, "category", "result", office_filter("institution__path"), LockedFilter)
    list_filter += (WithdrawnFilter, "is_fresh_graduate")
    search_fields = ("person__name", "=person__id_number", "institution__name", "=institution__uscc")
    list_select_related = ("person", "institution", "exam_year", "category")
    date_hierarchy = "created_at"
    readonly_fields = ("masked_id", "is_locked_now")

    def get_queryset(self, request):
        locking = RosterEntry.objects.filter(record=OuterRef("pk"), roster__status__in=Roster.LOCKING_STATUSES)
        return super().get_queryset(request).annotate(locked=Exists(locking))

    @admin.display(description=_("ID number"))
    def masked_id(self, obj):
        return obj.person.masked_id_number

    @admin.display(boolean=True, description=_("locked"), ordering="locked")
    def is_locked_now(self, obj):
        return obj.locked


@admin.register(OverlapAttempt, site=site)
class OverlapAttemptAdmin(ReadOnlyAdmin):
    region_lookup = "institution__region"
    list_display = ("at", "masked_id", "institution", "attempted_by", "start_date", "end_date", "conflicting_record")
    list_filter = (office_filter("institution__path"),)
    search_fields = ("=id_number", "institution__name", "attempted_by__username")
    list_select_related = ("institution", "attempted_by", "conflicting_record__person")
    date_hierarchy = "at"
    exclude = ("id_number",)
    readonly_fields = ("masked_id",)

    @admin.display(description=_("ID number"))
    def masked_id(self, obj):
        return mask_id_number(obj.id_number)
