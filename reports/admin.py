from django.contrib import admin
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from hbwsrc.admin import ExamYearFilter, ReadOnlyAdmin, ReadOnlyInline, office_filter, site
from reports.models import FilingReopening, Roster, RosterEntry
from trainees.models import mask_id_number


class EntryInline(ReadOnlyInline):
    model = RosterEntry
    show_change_link = False
    fields = ("position", "name", "sex", "masked_id", "category", "departments", "start_date", "end_date", "result")
    fields += ("is_fresh_graduate", "flagged")
    readonly_fields = fields

    @admin.display(description=_("ID number"))
    def masked_id(self, obj):
        return mask_id_number(obj.id_number)


@admin.register(Roster, site=site)
class RosterAdmin(ReadOnlyAdmin):
    """Every version of every roster, its rows, its rendered PDF and the stamped scan (served here, scoped)."""

    region_lookup = "institution__region"
    list_display = ("institution_name", "exam_year", "version", "status", "row_count", "finalised_at")
    list_display += ("submitted_at", "decided_at", "pdf_link", "scan_link")
    list_filter = ("status", ExamYearFilter, office_filter("institution__path"), "pdf_state")
    search_fields = ("institution_name", "=institution_uscc", "=verification_code")
    list_select_related = ("exam_year",)
    date_hierarchy = "finalised_at"
    exclude = ("pdf", "scan")
    readonly_fields = ("pdf_link", "scan_link")
    inlines = (EntryInline,)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/pdf/", view(self.file_view), {"kind": "pdf"}, name="reports_roster_pdf"),
            path("<path:object_id>/scan/", view(self.file_view), {"kind": "scan"}, name="reports_roster_scan"),
            *super().get_urls(),
        ]

    def file_view(self, request, object_id, kind):
        roster = self.get_object(request, object_id)
        stored = getattr(roster, kind) if roster is not None else None
        if not stored:
            raise Http404
        content_type = "application/pdf" if kind == "pdf" else roster.scan_content_type
        return FileResponse(stored.open("rb"), content_type=content_type)

    @admin.display(description=_("PDF"))
    def pdf_link(self, obj):
        if not obj.pdf:
            return obj.get_pdf_state_display()
        return format_html('<a href="{}">{}</a>', reverse("admin:reports_roster_pdf", args=[obj.pk]), _("PDF"))

    @admin.display(description=_("stamped scan"))
    def scan_link(self, obj):
        if not obj.scan:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("admin:reports_roster_scan", args=[obj.pk]), _("scan"))


@admin.register(FilingReopening, site=site)
class FilingReopeningAdmin(ReadOnlyAdmin):
    region_lookup = "institution__region"
    list_display = ("institution", "exam_year", "until", "reason", "granted_by", "granted_at")
    list_filter = (ExamYearFilter, office_filter("institution__path"))
    search_fields = ("institution__name", "reason")
    list_select_related = ("institution", "exam_year", "granted_by")
    date_hierarchy = "granted_at"
