import uuid
from functools import partial

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import audit
from accounts.models import AuditEvent
from hbwsrc.admin import ExamYearFilter, ReadOnlyAdmin, ReadOnlyInline, change_message_with_values, office_filter, site
from hbwsrc.identifiers import normalize_identifier
from hbwsrc.search import text_contains
from institutions.models import Institution
from institutions.scope import scope_for
from reports.models import Roster, RosterEntry
from trainees import actions, exports, imports, tasks
from trainees.import_views import ImportUploadForm, job_context, start_import
from trainees.models import (
    ExamCategory,
    ExamYear,
    ImportJob,
    OverlapAttempt,
    Person,
    ProbationRecord,
    mask_id_number,
    search_persons,
)


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
    region_lookup = "region"
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
        records = ProbationRecord.objects.filter(person=OuterRef("pk"), region_id=region_id)
        return queryset.filter(Exists(records))

    def get_search_results(self, request, queryset, search_term):
        # The platform's own search, from indexes: Django's (name icontains OR id_number iexact) reads every person.
        for term in search_term.split():
            queryset = search_persons(queryset, term, whole_id_number=True)
        return queryset, False

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


class AdminImportForm(ImportUploadForm):
    """The web import's upload form, plus the institution the records are for (any, for a superuser)."""

    institution = forms.CharField(
        label=_("Trial institution"),
        max_length=64,
        help_text=_("Its unified social credit code (统一社会信用代码) or its public id."),
    )
    field_order = ("institution", "file")

    def clean_institution(self):
        code = self.cleaned_data["institution"].strip()
        try:
            institution = Institution.objects.filter(public_id=uuid.UUID(code)).first()
        except ValueError:
            institution = Institution.objects.filter(uscc=normalize_identifier(code)).first()
        if institution is None:
            raise forms.ValidationError(
                gettext("No trial institution has this unified social credit code or public id.")
            )
        if not institution.profile_complete:
            raise forms.ValidationError(
                gettext("%(name)s has not completed its profile, so no records can be entered for it yet.")
                % {"name": institution.name}
            )
        return institution


@admin.register(ProbationRecord, site=site)
class ProbationRecordAdmin(ReadOnlyAdmin):
    """Read-only for everyone, superusers included: a record changes only through the platform's workflow (which the
    import below goes through), and a record on a finalised, submitted or filed roster not even there (the database
    refuses).

    Two actions beside the list, with the platform's own rules:

    * Export (auditors and superusers): what the list shows, with its filters, search and order, through
      ``trainees.exports``, audited as an export like the platform's. ID numbers are whole only in the rows whose
      record page the user could open in the platform (the export module's rule): a region's auditor holds
      view_office on the region office, so his rows are whole; superusers hold no platform grant, so theirs are
      masked.
    * Import (superusers only; auditors change nothing): the platform's import job for a chosen institution (upload,
      dry-run report, confirmation, all or nothing in the background). The superuser is the acting account: the
      records are "entered by" him and the import is audited with him as actor and the institution as target.
    """

    region_lookup = "region"  # the institution's, copied onto the record by the database
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

    def get_search_results(self, request, queryset, search_term):
        """Each word must match the trainee (as on the person admin) or the institution (part of its name, or its
        whole credit code). Both halves from indexes, joined by a UNION: OR'd across the two tables, PostgreSQL
        could only read every record."""
        for term in search_term.split():
            institutions = Institution.objects.filter(text_contains("name", term) | Q(uscc=normalize_identifier(term)))
            matching = search_persons(ProbationRecord.objects.all(), term, through="person__", whole_id_number=True)
            matching = matching.values("pk").union(
                ProbationRecord.objects.filter(institution__in=institutions).values("pk")
            )
            queryset = queryset.filter(pk__in=matching)
        return queryset, False

    @admin.display(description=_("ID number"))
    def masked_id(self, obj):
        return obj.person.masked_id_number

    @admin.display(boolean=True, description=_("locked"), ordering="locked")
    def is_locked_now(self, obj):
        return obj.locked

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("export/<str:fmt>/", view(self.export_view), name=f"{info}_export"),
            path("import/", view(self.import_view), name=f"{info}_import"),
            path("import/<uuid:public_id>/", view(self.import_job_view), name=f"{info}_import_job"),
            *super().get_urls(),
        ]

    # --- export ------------------------------------------------------------------------------------------------

    def export_view(self, request, fmt):
        if fmt not in ("xlsx", "csv"):
            raise Http404
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest(
                gettext("The list's filters are not valid. Open the list again and choose them there."),
                content_type="text/plain; charset=utf-8",
            )
        records = changelist.queryset.with_eligibility().select_related("institution__office")
        institutions = Institution.objects.filter(pk__in=records.order_by().values("institution_id"))
        scope = scope_for(request.user)
        whole = []

        def whole_id_number(record) -> bool:
            entitled = scope.can_view_institution(record.institution)
            whole.append(entitled)
            return entitled

        spec = exports.records_spec(records, exports.filing_statuses(institutions), whole_id_number=whole_id_number)
        content = exports.xlsx_bytes([spec]) if fmt == "xlsx" else exports.csv_bytes(spec.headers, spec.rows)
        query = {key: values if len(values) > 1 else values[0] for key, values in request.GET.lists()}
        audit.record(
            AuditEvent.Kind.EXPORT,
            actor=request.user,
            target=request.user.office,  # an auditor's region office; none for a superuser
            changes={
                "filter": query,
                "rows": len(spec.rows),
                "format": fmt,
                "site": "admin",
                "whole_id_numbers": sum(whole),
            },
            request=request,
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return exports.file_response(content, f"records-{stamp}.{fmt}", fmt)

    # --- import ------------------------------------------------------------------------------------------------

    def _require_importer(self, request):
        if not request.user.is_superuser:  # auditors change nothing
            raise PermissionDenied

    def import_view(self, request):
        self._require_importer(request)
        form = AdminImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            job = ImportJob.objects.create(
                institution=form.cleaned_data["institution"],
                created_by=request.user,
                file=form.cleaned_data["file"],
                original_name=form.original_name,
            )
            transaction.on_commit(partial(tasks.check_import.enqueue, job.pk, request.user.pk))
            return redirect("admin:trainees_probationrecord_import_job", job.public_id)
        jobs = ImportJob.objects.filter(created_by__is_superuser=True).select_related("institution", "created_by")
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Import records"),
            "opts": self.opts,
            "form": form,
            "jobs": jobs[:20],
            "max_rows": settings.IMPORT_MAX_ROWS,
            "max_megabytes": imports._megabytes(settings.IMPORT_MAX_BYTES),
        }
        return TemplateResponse(request, "admin/trainees/probationrecord/import.html", context)

    def import_job_view(self, request, public_id):
        """A job uploaded here: its progress, its report, and the confirmation (the web import's page)."""
        self._require_importer(request)
        jobs = ImportJob.objects.filter(created_by__is_superuser=True).select_related("institution", "created_by")
        job = get_object_or_404(jobs, public_id=public_id)
        url = reverse("admin:trainees_probationrecord_import_job", args=[job.public_id])
        if request.method == "POST":
            actions.require_record_access(request.user, job.institution)
            start_import(job, request.user)
            return redirect(url)
        context = {
            **self.admin_site.each_context(request),
            **job_context(job),
            "title": gettext("Import: %(file)s") % {"file": job.original_name},
            "opts": self.opts,
            "job_url": url,
        }
        response = TemplateResponse(request, "admin/trainees/probationrecord/import_job.html", context)
        if job.is_running:
            response["Refresh"] = "2"
        return response


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
