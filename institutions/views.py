import copy
import os
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from hbwsrc.composed import Composed, ComposedPer
from hbwsrc.db import scoped_row_or_404
from hbwsrc.pagination import rows_as_values
from hbwsrc.routers import read_only
from hbwsrc.search import text_contains
from institutions import actions
from institutions.forms import InstitutionForm, OfficeForm, ProfileForm, SearchForm
from institutions.models import Institution, Office, institutions_per_path
from institutions.scope import CHANGE_INSTITUTION, scope_for

# An office, an institution by its public id among those the account sees: composed once per scope (hbwsrc.composed).
_office_in_scope = ComposedPer(
    lambda scope, p: scope.offices().select_related("parent").filter(public_id=p.public_id), public_id=UUID
)
_institution_in_scope = ComposedPer(
    lambda scope, p: scope.institutions().select_related("office").filter(public_id=p.public_id), public_id=UUID
)


def _office_for(request, public_id) -> Office:
    return scoped_row_or_404(_office_in_scope, scope_for(request.user), public_id=public_id)


def _institution_for(request, public_id) -> Institution:
    return scoped_row_or_404(_institution_in_scope, scope_for(request.user), public_id=public_id)


def _page(request, queryset):
    return Paginator(queryset, 50).get_page(request.GET.get("page"))


def _search(request):
    form = SearchForm(request.GET)
    return form, (form.cleaned_data["q"].strip() if form.is_valid() else "")


# What the office and institution lists show (institutions.templatetags.institution_rows), read as values: the
# model instances, two a row, were a fifth to a third of the lists' time (bench/README.md, stop 20).
OFFICE_COLUMNS = ("pk", "public_id", "name", "kind", "division_code", "path")
INSTITUTION_COLUMNS = ("public_id", "name", "office__name", "contact_person", "contact_phone")
SUPERVISED_COLUMNS = ("public_id", "name", "contact_person", "contact_phone")  # an office's own, on its page


def _with_subtree_counts(offices: list[dict]) -> list[dict]:
    """Offices' rows (OFFICE_COLUMNS and ``child_count``: ``_office_rows``) with ``institution_count``, the
    institutions at or beneath each office.

    The institutions under the offices' common path prefix are counted per path from an index alone
    (``institutions_per_path``) and added up per office in Python. A correlated ``path LIKE office.path || '%'``
    cannot use the path index and read the whole institution table once per office.
    """
    offices = [{**row, "institution_count": 0} for row in offices]
    if not offices:
        return offices
    prefix = os.path.commonprefix([office["path"] for office in offices])
    prefix = prefix[: prefix.rfind("/") + 1]  # never cut an id in two
    listed = {office["path"]: office for office in offices}
    # Each count goes to the listed offices among the path's ancestors ("1/", "1/8/", ...).
    for path, n in institutions_per_path(prefix):
        end = path.find("/")
        while end != -1:
            if (office := listed.get(path[: end + 1])) is not None:
                office["institution_count"] += n
            end = path.find("/", end + 1)
    return offices


def _office_rows(offices):
    return offices.values(*OFFICE_COLUMNS, child_count=Count("children"))


# An office's children, composed once (hbwsrc.composed): the office page's most composed query after its own row.
_children_of = Composed(lambda p: _office_rows(Office.objects.filter(parent_id=p.office).order_by("path")), office=int)


def _save_or_report(form, save):
    """Run ``save``; turn a constraint violation raised by the database into a form error."""
    try:
        return save()
    except ValidationError as error:
        form.add_error(None, error)
        return None


@login_required
def home(request):
    user = request.user
    if user.institution_id:
        return redirect(user.institution)
    if user.office_id:
        return redirect(user.office)
    return redirect("admin:index") if user.is_staff else render(request, "institutions/no_node.html")


@login_required
@read_only
def office_list(request):
    form, q = _search(request)
    offices = scope_for(request.user).offices()
    if q:
        offices = offices.filter(Q(name__icontains=q) | Q(division_code__startswith=q))
    page = _page(request, offices.order_by("path"))
    page.object_list = _with_subtree_counts(_office_rows(page.object_list))
    return render(request, "institutions/office_list.html", {"page": page, "form": form})


@login_required
@read_only
def office_detail(request, public_id):
    office = _office_for(request, public_id)
    scope = scope_for(request.user)
    children = _with_subtree_counts(_children_of(office=office.pk))
    institutions = office.institutions.order_by("name")
    return render(
        request,
        "institutions/office_detail.html",
        {
            "office": office,
            "children": children,
            "institutions": rows_as_values(
                _page(request, institutions), *SUPERVISED_COLUMNS, account_count=Count("accounts")
            ),
            "accounts": office.accounts.all() if scope.can_issue_account_for(office) else None,
            "can_create": scope.can_create_under(office),
            "can_edit": scope.can_edit_office(office),
            "can_issue": scope.can_issue_account_for(office),
            "ancestors": scope.offices_above(office),
        },
    )


@login_required
def office_create(request, public_id):
    parent = _office_for(request, public_id)
    if not scope_for(request.user).can_create_under(parent):
        raise PermissionDenied
    form = OfficeForm(request.POST or None, parent=parent)
    if request.method == "POST" and form.is_valid():
        office = _save_or_report(
            form,
            lambda: actions.create_office(parent, acting_user=request.user, request=request, **form.cleaned_data),
        )
        if office:
            messages.success(request, _("Office %(name)s created.") % {"name": office.name})
            return redirect(office)
    return render(request, "institutions/office_form.html", {"form": form, "parent": parent})


@login_required
def office_edit(request, public_id):
    office = _office_for(request, public_id)
    if not scope_for(request.user).can_edit_office(office):
        raise PermissionDenied
    form = OfficeForm(request.POST or None, instance=office, parent=office.parent)
    if request.method == "POST" and form.is_valid():
        saved = _save_or_report(
            form,
            lambda: actions.update_office(office, acting_user=request.user, request=request, **form.cleaned_data),
        )
        if saved:
            messages.success(request, _("Changes saved."))
            return redirect(saved)
    return render(request, "institutions/office_form.html", {"form": form, "parent": office.parent, "office": office})


@login_required
@read_only
def institution_list(request):
    form, q = _search(request)
    institutions = scope_for(request.user).institutions()
    if q:
        institutions = institutions.filter(text_contains("name", q))
    page = rows_as_values(_page(request, institutions), *INSTITUTION_COLUMNS)
    return render(request, "institutions/institution_list.html", {"page": page, "form": form})


@login_required
def institution_detail(request, public_id):
    institution = _institution_for(request, public_id)
    scope = scope_for(request.user)
    can_issue = scope.can_issue_account_for(institution)
    return render(
        request,
        "institutions/institution_detail.html",
        {
            "institution": institution,
            "accounts": institution.accounts.order_by("-is_master", "username") if can_issue else None,
            "can_edit": scope.can_edit_institution(institution),
            "can_issue": can_issue,
            "can_edit_profile": scope.has_institution_perm(CHANGE_INSTITUTION, institution),
        },
    )


@login_required
def institution_create(request, public_id):
    office = _office_for(request, public_id)
    if not scope_for(request.user).can_create_under(office):
        raise PermissionDenied
    form = InstitutionForm(request.POST or None, user=request.user, initial={"office": office})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        target_office = data.pop("office")
        institution = _save_or_report(
            form,
            lambda: actions.create_institution(target_office, acting_user=request.user, request=request, **data),
        )
        if institution:
            messages.success(request, _("Institution %(name)s created.") % {"name": institution.name})
            return redirect(institution)
    return render(request, "institutions/institution_form.html", {"form": form, "office": office})


@login_required
def institution_edit(request, public_id):
    institution = _institution_for(request, public_id)
    if not scope_for(request.user).can_edit_institution(institution):
        raise PermissionDenied
    form = InstitutionForm(request.POST or None, instance=institution, user=request.user)
    if request.method == "POST" and form.is_valid():
        saved = _save_or_report(
            form,
            lambda: actions.update_institution(
                institution, acting_user=request.user, request=request, **form.cleaned_data
            ),
        )
        if saved:
            messages.success(request, _("Changes saved."))
            return redirect(saved)
    return render(
        request,
        "institutions/institution_form.html",
        {"form": form, "office": institution.office, "institution": institution},
    )


@login_required
def institution_profile(request, public_id):
    """The institution completes its own profile; the offices above see it on the institution page only."""
    institution = _institution_for(request, public_id)
    if not scope_for(request.user).has_institution_perm(CHANGE_INSTITUTION, institution):
        raise PermissionDenied
    # The form writes the typed values into its instance while validating: give it a copy, so that the page
    # (the "missing" notice) keeps describing what is stored when the form has errors.
    form = ProfileForm(request.POST if request.method == "POST" else None, instance=copy.copy(institution))
    if request.method == "POST" and form.is_valid():
        saved = _save_or_report(
            form,
            lambda: actions.update_profile(institution, acting_user=request.user, request=request, **form.cleaned_data),
        )
        if saved:
            messages.success(request, _("Profile saved."))
            for warning in form.warnings:
                messages.warning(request, warning)
            return redirect(saved)
    return render(request, "institutions/institution_profile.html", {"form": form, "institution": institution})
