from django.core.files.base import ContentFile
from django.db import transaction
from django_tasks import task

from reports.models import Roster
from reports.pdf import render_roster_pdf, sha256


@task()
def render_roster(roster_id: int) -> None:
    """Render a finalised roster's PDF in the background and store it with its SHA-256."""
    Roster.objects.filter(pk=roster_id).update(pdf_state=Roster.PdfState.RENDERING)
    roster = Roster.objects.select_related("exam_year").get(pk=roster_id)
    try:
        data, pages = render_roster_pdf(roster)
    except Exception as error:
        Roster.objects.filter(pk=roster_id).update(pdf_state=Roster.PdfState.FAILED, pdf_error=repr(error)[:2000])
        raise
    with transaction.atomic():
        roster.pdf.save(f"roster-{roster.public_id}-v{roster.version}.pdf", ContentFile(data), save=False)
        Roster.objects.filter(pk=roster_id).update(
            pdf=roster.pdf.name, pdf_sha256=sha256(data), pdf_pages=pages, pdf_state=Roster.PdfState.READY
        )
