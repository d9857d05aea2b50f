"""The spreadsheet import in the browser: template downloads, upload, the checked preview, confirmation, progress.

Upload stores the file in an ImportJob and queues the dry run (``trainees.tasks.check_import``); the job's page
shows progress while a task works (an HTTP ``Refresh`` header, no script, so a Content-Security-Policy can forbid
inline JavaScript), then every bad row as row, column and message, or what the good rows would create or change.
Confirming queues the import itself, which checks every row again and saves all of them in one transaction.
Only an institution account with manage_records on its own institution, with a complete profile, imports, and
only into its own institution; another institution's jobs answer 404.
"""

import io
import uuid
from functools import partial

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from institutions.scope import MANAGE_RECORDS, scope_for
from trainees import actions, imports, tasks
from trainees.exports import csv_bytes, file_response
from trainees.models import ExamCategory, ImportJob

SHOWN_ROWS = 500  # the page lists this many errors or rows; the report download has them all


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Spreadsheet file (.xlsx or .csv)"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(max)s MB. Split it into smaller files.")
                % {"max": imports._megabytes(settings.IMPORT_MAX_BYTES)}
            )
        data = upload.read()
        upload.seek(0)
        try:
            kind = imports.sniff(data)
            if kind == "csv":
                imports._decode_text(data)
        except imports.ImportFileError as error:
            raise forms.ValidationError(error.message) from None
        self.original_name = upload.name[:255]
        upload.name = f"{uuid.uuid4().hex}.{kind}"  # the stored name never carries what the user called it
        return upload


def _importing_institution(request):
    institution = request.user.institution
    if institution is None or not scope_for(request.user).has_institution_perm(MANAGE_RECORDS, institution):
        raise PermissionDenied
    return institution


def _platform_jobs(institution):
    """The institution's own import jobs. Jobs a superuser started in the admin site are confirmed and followed
    there: the institution sees their records and their audit trail, never a button to run them as itself."""
    return ImportJob.objects.filter(institution=institution, created_by__is_superuser=False).select_related(
        "created_by"
    )


def _job_for(request, public_id) -> ImportJob:
    return get_object_or_404(_platform_jobs(_importing_institution(request)), public_id=public_id)


@login_required
def import_template(request, fmt):
    columns = imports.template_columns()
    if fmt == "csv":
        content = csv_bytes([column.header for column in columns], [])
    else:
        content = template_xlsx()
    return file_response(content, f"probation-records-template.{fmt}", fmt)


def template_xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "试用期考核记录"
    for index, column in enumerate(imports.template_columns(), start=1):
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = Font(bold=True, color="C00000" if column.required else "000000")
        letter = get_column_letter(index)
        dimension = sheet.column_dimensions[letter]
        dimension.width = max(12, len(column.header) * 2 + 4)
        if column.kind == imports.DATE:
            dimension.number_format = "yyyy-mm-dd"
        elif column.kind != imports.YEAR:
            dimension.number_format = "@"  # typed ID numbers and codes stay text
        allowed = list(column.names.values()) if column.names else [imports.YES, imports.NO]
        if column.kind in (imports.CHOICE, imports.BOOLEAN):
            validation = DataValidation(type="list", formula1='"' + ",".join(allowed) + '"', allow_blank=True)
            validation.add(f"{letter}2:{letter}20001")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    help_sheet = workbook.create_sheet("填写说明")
    for row in imports.template_help_rows(ExamCategory.objects.filter(is_active=True)):
        help_sheet.append([str(value) for value in row])
    for cell in help_sheet[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCD", (24, 22, 80, 24), strict=True):
        help_sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def import_start(request):
    institution = _importing_institution(request)
    if not institution.profile_complete:
        if request.method == "POST":
            raise PermissionDenied
        return render(request, "trainees/profile_incomplete.html", {"institution": institution})
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = ImportJob.objects.create(
            institution=institution,
            created_by=request.user,
            file=upload,
            original_name=form.original_name,
        )
        transaction.on_commit(partial(tasks.check_import.enqueue, job.pk, request.user.pk))
        return redirect(job)
    jobs = _platform_jobs(institution)[:10]
    return render(
        request,
        "trainees/import_start.html",
        {
            "form": form,
            "jobs": jobs,
            "institution": institution,
            "max_rows": settings.IMPORT_MAX_ROWS,
            "max_megabytes": imports._megabytes(settings.IMPORT_MAX_BYTES),
        },
    )


def start_import(job, user) -> None:
    """Confirm a checked job: mark it importing and queue the import when the transaction commits. A second click,
    or a second tab, finds the job already started and queues nothing. updated_at marks the start, from which
    purge_import_files tells a stuck import (a dead worker)."""
    if not job.can_confirm:
        return
    started = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.CHECKED).update(
        status=ImportJob.Status.IMPORTING, rows_done=0, updated_at=timezone.now()
    )
    if started:
        transaction.on_commit(partial(tasks.run_import.enqueue, job.pk, user.pk))


def job_context(job) -> dict:
    """What a job's page shows: its report, the first SHOWN_ROWS errors and changes, the progress."""
    report = imports.Report.from_json(job.report)
    return {
        "job": job,
        "report": report,
        "errors": report.errors[:SHOWN_ROWS],
        "rows": [row for row in report.rows if row["action"] != imports.UNCHANGED][:SHOWN_ROWS],
        "shown": SHOWN_ROWS,
        "percent": int(100 * job.rows_done / job.rows_total) if job.rows_total else 0,
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def import_detail(request, public_id):
    job = _job_for(request, public_id)
    if request.method == "POST":
        actions.require_record_access(request.user, job.institution)
        start_import(job, request.user)
        return redirect(job)
    response = render(
        request, "trainees/import_detail.html", {**job_context(job), "upload_form": ImportUploadForm()}
    )
    if job.is_running:
        response["Refresh"] = "2"
    return response


@login_required
def import_report(request, public_id):
    """Every error (or, for a clean file, every row and what it does) as csv."""
    job = _job_for(request, public_id)
    report = imports.Report.from_json(job.report)
    actions_names = {
        imports.NEW: _("new"),
        imports.UPDATE: _("changed"),
        imports.UNCHANGED: _("unchanged"),
        imports.SKIPPED: _("skipped"),
    }
    if report.file_errors or report.errors:
        headers = [_("Row"), _("Column"), _("Message")]
        rows = [["", "", message] for message in report.file_errors]
        rows += [[error["row"], error["column"], error["message"]] for error in report.errors]
    else:
        headers = [_("Row"), _("Action"), _("Name"), _("ID number"), _("Changed columns")]
        rows = [
            [row["row"], actions_names[row["action"]], row["name"], row["id"], "、".join(row["fields"])]
            for row in report.rows
        ]
    return file_response(csv_bytes(headers, rows), f"import-report-{job.public_id}.csv", "csv")
