"""python manage.py purge_import_files: the daily housekeeping of uploaded import spreadsheets.

Uploaded files carry trainees' ID numbers, so they are not kept longer than they are useful:

* the stored file of every job uploaded more than ``IMPORT_FILE_RETENTION_DAYS`` ago that is no longer running
  (imported, not imported, or checked and never confirmed) is deleted; the job row and its report stay, so the
  history of imports remains. A checked job whose file is gone can no longer be confirmed: it becomes "not
  imported" and its report says to upload the file again.
* a job left "checking" or "importing" for more than ``IMPORT_STUCK_MINUTES`` (the worker running it died; an
  import runs in one transaction, so nothing of it was saved) becomes "not imported" with a message saying so,
  and the institution uploads the file again.

Run it once a day (cron or a systemd timer, see README.md); running it again changes nothing.
"""

import datetime
import logging

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from trainees import imports
from trainees.models import ImportJob

logger = logging.getLogger(__name__)


def _failed_report(message: str) -> dict:
    report = imports.Report()
    report.file_errors.append(message)
    return report.as_json()


def fail_stuck_jobs(now) -> int:
    """Mark the jobs a dead worker left running as not imported; how many."""
    cutoff = now - datetime.timedelta(minutes=settings.IMPORT_STUCK_MINUTES)
    message = _(
        "The processing of this file stopped before it finished (the server working on it was interrupted). "
        "Nothing was imported. Upload the file again."
    )
    # updated_at is when the job was uploaded or last started (the confirmation sets it); a conditional update, so a
    # job that finished meanwhile is left as it is.
    return ImportJob.objects.filter(
        status__in=(ImportJob.Status.CHECKING, ImportJob.Status.IMPORTING), updated_at__lt=cutoff
    ).update(status=ImportJob.Status.FAILED, report=_failed_report(message), updated_at=now)


def purge_files(now) -> int:
    """Delete the stored files of the finished jobs uploaded before the retention period; how many."""
    cutoff = now - datetime.timedelta(days=settings.IMPORT_FILE_RETENTION_DAYS)
    finished = (ImportJob.Status.CHECKED, ImportJob.Status.DONE, ImportJob.Status.FAILED)
    jobs = ImportJob.objects.filter(status__in=finished, created_at__lt=cutoff).exclude(file="")
    message = _("The uploaded file was deleted after %(days)s days without being imported. Upload it again.") % {
        "days": settings.IMPORT_FILE_RETENTION_DAYS
    }
    purged = 0
    for job in jobs.only("pk", "file", "status", "report").iterator():
        name = job.file.name
        with transaction.atomic():
            # Only a job still in the state read is changed: a confirmation arriving meanwhile keeps its file.
            locked = ImportJob.objects.select_for_update().filter(pk=job.pk, status=job.status).exclude(file="")
            if not locked.exists():
                continue
            changes = {"file": ""}
            if job.status == ImportJob.Status.CHECKED:
                report = dict(job.report)
                report["file_errors"] = [*report.get("file_errors", []), message]
                changes.update(status=ImportJob.Status.FAILED, report=report, updated_at=now)
            locked.update(**changes)
        # Once the job no longer names it (committed above), the file goes; a failure leaves only an orphan file.
        _delete(job.file.storage, name)
        purged += 1
    return purged


def _delete(storage, name: str) -> None:
    try:
        storage.delete(name)
    except OSError:  # already gone, or the store refused: the job no longer points at it either way
        logger.warning("import file %s not deleted", name, exc_info=True)


class Command(BaseCommand):
    help = (
        "Delete uploaded import files older than IMPORT_FILE_RETENTION_DAYS (keeping the jobs and their reports) "
        "and fail import jobs stuck for more than IMPORT_STUCK_MINUTES."
    )

    def handle(self, *args, **options):
        now = timezone.now()
        with override(settings.LANGUAGE_CODE):  # the messages are read by the institutions, in their language
            stuck = fail_stuck_jobs(now)
            purged = purge_files(now)
        logger.info("import housekeeping: %s stuck jobs failed, %s files deleted", stuck, purged)
        self.stdout.write(f"{stuck} stuck import jobs marked as not imported, {purged} uploaded files deleted")
