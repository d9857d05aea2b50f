"""python manage.py import_records --institution <统一社会信用代码 or public id> FILE [--dry-run] [--user NAME]

The same dry run and import as the web page: every row is checked and each bad one printed as
``row N, <column>: <message>``, then a summary; when any row is bad the command exits with status 1 and imports
nothing. Without --dry-run the rows are checked and saved in one transaction, all or none. The acting account (who
the records are "entered by") is the institution's master account unless --user names another account of that
institution with manage_records.
"""

import sys
import uuid
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from hbwsrc.identifiers import normalize_identifier
from institutions.models import Institution
from trainees import imports


class Command(BaseCommand):
    help = "Check and import a spreadsheet (xlsx or csv) of probation records for one institution: all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .xlsx or .csv file")
        parser.add_argument(
            "--institution", required=True, help="the institution's unified social credit code or public id"
        )
        parser.add_argument("--dry-run", action="store_true", help="check every row, import nothing")
        parser.add_argument("--user", help="the acting account (default: the institution's master account)")

    def handle(self, *args, **options):
        institution = self._institution(options["institution"])
        user = self._user(institution, options["user"])
        try:
            data = Path(options["file"]).read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {options['file']}: {error.strerror}") from None
        progress = self._progress if options["verbosity"] >= 2 else None
        try:
            if options["dry_run"]:
                report = imports.check_file(data, institution=institution, user=user, progress=progress)
            else:
                # The import checks every row exactly as the dry run does and saves nothing unless all are good:
                # one pass instead of two.
                name = Path(options["file"]).name
                report = imports.import_file(data, institution=institution, user=user, progress=progress, name=name)
        except PermissionDenied:
            raise CommandError(
                f"{user.username} may not enter records for {institution.name} (or its profile is incomplete)"
            ) from None
        self._print(report)
        if not report.ok:
            raise CommandError(self._failure(report))
        if options["dry_run"]:
            self.stdout.write("dry run: nothing imported")
        else:
            self.stdout.write(self.style.SUCCESS(f"imported in {report.seconds:.1f} s"))

    def _institution(self, code: str) -> Institution:
        code = code.strip()
        try:
            return Institution.objects.get(public_id=uuid.UUID(code))
        except (ValueError, Institution.DoesNotExist):
            pass
        try:
            return Institution.objects.get(uscc=normalize_identifier(code))
        except Institution.DoesNotExist:
            raise CommandError(f"no institution with the unified social credit code or public id {code}") from None

    def _user(self, institution, username) -> User:
        accounts = User.objects.filter(institution=institution, is_active=True)
        user = accounts.filter(username=username).first() if username else accounts.filter(is_master=True).first()
        if user is None:
            raise CommandError(
                f"no active account {username} at {institution.name}"
                if username
                else f"{institution.name} has no active master account; name one with --user"
            )
        return user

    def _progress(self, done, total):
        if done == total or done % 1000 == 0:
            sys.stderr.write(f"\r{done}/{total} rows")
            if done == total:
                sys.stderr.write("\n")

    def _print(self, report) -> None:
        for message in report.file_errors:
            self.stdout.write(f"file: {message}")
        for error in report.errors:
            self.stdout.write(f"row {error['row']}, {error['column']}: {error['message']}")
        if report.ignored_columns:
            self.stdout.write(f"ignored columns: {', '.join(report.ignored_columns)}")
        self.stdout.write(f"{report.total_rows} rows: {self._counts(report)}")

    @staticmethod
    def _counts(report) -> str:
        counts = report.counts
        return (
            f"{counts[imports.NEW]} new, {counts[imports.UPDATE]} changed, {counts[imports.UNCHANGED]} unchanged, "
            f"{counts[imports.SKIPPED]} skipped, {report.bad_rows} with errors"
        )

    @staticmethod
    def _failure(report) -> str:
        if report.file_errors:
            return "the file cannot be imported; nothing was imported"
        return f"{report.bad_rows} of {report.total_rows} rows have errors; nothing was imported"
