"""Background tasks of the spreadsheet import: big files are checked and imported outside the request."""

from django_tasks import task

from trainees import imports


@task()
def check_import(job_id: int, user_id: int) -> None:
    """The dry run of an uploaded file: every row checked, nothing saved."""
    imports.run_job(job_id, user_id, dry_run=True)


@task()
def run_import(job_id: int, user_id: int) -> None:
    """The confirmed import: every row checked again and saved, all in one transaction or none."""
    imports.run_job(job_id, user_id, dry_run=False)
