import hashlib
import warnings

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from PIL import Image

from hbwsrc.widgets import DateInput
from reports.models import Roster

SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
MAX_SCAN_PIXELS = 60_000_000  # a 600 dpi A4 page is about 35 megapixels


def sniff_content_type(head: bytes) -> str | None:
    """The file's type from its first bytes; the name and the browser's claim are ignored."""
    return next((content_type for signature, content_type in SIGNATURES if head.startswith(signature)), None)


class ScanForm(forms.Form):
    scan = forms.FileField(label=_("Scan of the stamped roster (PDF, JPEG or PNG)"))

    def clean_scan(self):
        upload = self.cleaned_data["scan"]
        if upload.size > settings.SCAN_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB."), params={"mb": settings.SCAN_MAX_BYTES // (1024 * 1024)}
            )
        upload.seek(0)
        content_type = sniff_content_type(upload.read(16))
        if content_type is None:
            raise forms.ValidationError(_("The file is not a PDF, JPEG or PNG file."), code="type")
        upload.seek(0)
        if content_type == "application/pdf":
            upload.seek(max(upload.size - 1024, 0))
            if b"%%EOF" not in upload.read():
                raise forms.ValidationError(_("The PDF file is damaged or incomplete."), code="damaged")
        else:
            self._check_image(upload)
        upload.seek(0)
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        self.content_type = content_type
        self.digest = digest.hexdigest()
        return upload

    @staticmethod
    def _check_image(upload):
        """Open the image header only: refuse damaged files and decompression bombs before any decoding."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(upload) as image:
                    width, height = image.size
                    image.verify()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise forms.ValidationError(_("The image is too large."), code="bomb") from None
        except Exception:
            raise forms.ValidationError(_("The image file is damaged."), code="damaged") from None
        if width * height > MAX_SCAN_PIXELS:
            raise forms.ValidationError(_("The image is too large."), code="bomb")


class ReturnForm(forms.Form):
    reason = forms.CharField(label=_("Reason for return"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    flagged = forms.TypedMultipleChoiceField(label=_("Rows concerned"), coerce=int, required=False)

    def __init__(self, *args, roster: Roster, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["flagged"].choices = [(e.position, str(e)) for e in roster.entries.all()]

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if "\x00" in reason:
            raise forms.ValidationError(_("The text contains control characters."))
        return reason


class ReopenForm(forms.Form):
    until = forms.DateField(label=_("Open until"), widget=DateInput())
    reason = forms.CharField(label=_("Reason"), max_length=500)

    def clean_until(self):
        until = self.cleaned_data["until"]
        if until < timezone.localdate():
            raise forms.ValidationError(_("The new deadline is in the past."))
        return until


class FilingFilterForm(forms.Form):
    STATUS_CHOICES = [
        ("", _("All")),
        ("none", _("Nothing yet")),
        (Roster.Status.FINALISED, _("Not submitted")),
        (Roster.Status.SUBMITTED, _("Submitted")),
        (Roster.Status.ACCEPTED, _("Filed")),
        (Roster.Status.RETURNED, _("Returned")),
    ]
    q = forms.CharField(label=_("Institution name"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("status"), choices=STATUS_CHOICES, required=False)
