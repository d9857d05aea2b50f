"""Public roster verification: whoever holds the paper checks it against the platform, without an account.

The page answers only what the spec allows: the roster's summary (institution, exam year, version, number of
persons, filing status and its date, SHA-256 of the PDF) and, given a name and an ID number together, whether
that person is on it. It never lists names. Requests carrying a code are rate limited per client address before
anything is looked up; every lookup that reaches the database is audited without the name or ID number.

The code alone may travel in the URL (it is printed on the paper and is the QR code's target). The person check is a
POST of the form: a name and an ID number in a URL would end up in browser histories, proxy and access logs and
Referer headers, so a request whose query string carries either is refused before anything is read.
"""

import re

from django import forms
from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts import audit
from accounts.models import AuditEvent
from hbwsrc import ratelimit
from hbwsrc.identifiers import normalize_identifier
from reports.models import VERIFICATION_ALPHABET, Roster, RosterEntry, normalize_verification_code

_CODE_RE = re.compile(rf"[{VERIFICATION_ALPHABET}]{{4}}(?:-[{VERIFICATION_ALPHABET}]{{4}}){{3}}", re.ASCII)

# Which date the summary shows for each status, and what it is called.
_STATUS_DATE = {
    Roster.Status.FINALISED: (gettext_lazy("Finalised on"), "finalised_at"),
    Roster.Status.SUBMITTED: (gettext_lazy("Submitted on"), "submitted_at"),
    Roster.Status.ACCEPTED: (gettext_lazy("Filed on"), "decided_at"),
    Roster.Status.RETURNED: (gettext_lazy("Returned on"), "decided_at"),
    Roster.Status.CANCELLED: (gettext_lazy("Finalised on"), "finalised_at"),
}


class VerifyForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Verification code"),
        max_length=40,
        help_text=gettext_lazy("The 16 characters printed under the QR code; case, spaces and dashes do not matter."),
    )
    name = forms.CharField(label=gettext_lazy("Full name"), max_length=50, required=False)
    id_number = forms.CharField(
        label=gettext_lazy("ID number"),
        max_length=40,
        required=False,
        help_text=gettext_lazy("Give the name and the ID number to check whether that person is on the roster."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_code(self):
        # Full-width letters and dashes (typed with a Chinese input method) count as their ASCII forms.
        code = normalize_verification_code(normalize_identifier(self.cleaned_data["code"]))
        if not _CODE_RE.fullmatch(code):
            raise forms.ValidationError(
                gettext_lazy("A verification code is 16 letters and digits, as printed on the roster."),
                code="format",
            )
        return code

    def clean_id_number(self):
        return normalize_identifier(self.cleaned_data["id_number"])

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("name")) != bool(cleaned.get("id_number")):
            raise forms.ValidationError(
                gettext_lazy("Give both the full name and the ID number to check whether a person is on the roster."),
                code="person",
            )
        return cleaned


def _summary(roster: Roster) -> dict:
    label, field = _STATUS_DATE.get(roster.status, _STATUS_DATE[Roster.Status.FINALISED])
    return {
        "institution": roster.institution_name,
        "exam_year": roster.exam_year.year,
        "version": roster.version,
        "row_count": roster.row_count,
        "status": roster.status,
        "status_display": roster.get_status_display(),
        "date_label": label,
        "date": getattr(roster, field) or roster.finalised_at,
        "pdf_sha256": roster.pdf_sha256,
    }


# Query-string parameters that would put personal data in a URL.
_PERSON_FIELDS = ("name", "id_number")


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request, code=None):
    """GET /verify/ (the form) and /verify/<code>/ or /verify/?code= (the QR code's target: the summary);
    POST of the form (to either) checks a person too."""
    if any(field in request.GET for field in _PERSON_FIELDS):
        return _refuse_person_in_url(request, code)
    if request.method == "POST":
        data = request.POST.copy()
    else:
        data = {"code": request.GET.get("code", "")}
    if code is not None:
        data["code"] = code
    if request.method != "POST" and not data["code"]:
        return _render(request, {"form": VerifyForm()})

    limit, window = settings.VERIFY_RATE_LIMIT
    if not ratelimit.hit("verify", ratelimit.client_ip(request), limit, window):
        response = _render(request, {"form": VerifyForm(), "limited": True}, status=429)
        response["Retry-After"] = str(window)
        return response

    form = VerifyForm(data)
    if not form.is_valid():
        return _render(request, {"form": form}, status=400)

    code = form.cleaned_data["code"]
    name, id_number = form.cleaned_data["name"], form.cleaned_data["id_number"]
    roster = Roster.objects.select_related("exam_year").filter(verification_code=code).first()
    person_checked = roster is not None and bool(name and id_number)
    on_roster = (
        RosterEntry.objects.filter(roster=roster, name=name, id_number=id_number).exists() if person_checked else None
    )
    audit.record(
        AuditEvent.Kind.VERIFICATION,
        actor=None,
        target=roster,
        changes={
            "code": code,
            "found": roster is not None,
            "person_checked": person_checked,
            "person_on_roster": on_roster,
        },
        request=request,
    )
    context = {"form": VerifyForm(initial=form.cleaned_data)}
    if roster is None:
        context["not_found"] = True
        return _render(request, context, status=404)
    context.update(summary=_summary(roster), person_checked=person_checked, on_roster=on_roster)
    return _render(request, context)


def _refuse_person_in_url(request, code):
    """400 for a name or an ID number in the query string: nothing is looked up, counted or logged, and neither
    value is shown again; the form (with the code kept) says to send them with it."""
    code = code if code is not None else request.GET.get("code", "")
    form = VerifyForm(initial={"code": code[: VerifyForm.base_fields["code"].max_length]})
    # Whatever renders this request from here on sees the path alone: the footer's language switch writes
    # request.get_full_path() into the page, which would echo the values back.
    request.META["QUERY_STRING"] = ""
    response = _render(request, {"form": form, "person_in_url": True}, status=400)
    # The page's own URL carries the values: no Referer at all for whatever it loads or links to.
    response["Referrer-Policy"] = "no-referrer"
    return response


def _render(request, context, status=200):
    response = render(request, "reports/verify.html", context, status=status)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
