"""State changes on the hierarchy. Each checks the actor's rights, runs in one transaction and is audited."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts import audit
from accounts.models import AuditEvent
from hbwsrc import identifiers
from institutions.models import Institution, Office
from institutions.scope import CHANGE_INSTITUTION, scope_for

OFFICE_FIELDS = ("name", "kind", "division_code", "contact_person", "contact_phone")
INSTITUTION_FIELDS = ("name", "office", "contact_person", "contact_phone")


@transaction.atomic
def create_office(parent: Office, *, acting_user, request=None, **fields) -> Office:
    if not scope_for(acting_user).can_create_under(parent):
        raise PermissionDenied
    office = Office(parent=parent, region_id=parent.region_id, **fields)
    office.validate_constraints()
    office.save()
    audit.record(
        AuditEvent.Kind.OFFICE_CREATE,
        actor=acting_user,
        target=office,
        changes=audit.diff(office, {}, OFFICE_FIELDS),
        request=request,
    )
    return office


@transaction.atomic
def update_office(office: Office, *, acting_user, request=None, **fields) -> Office:
    if not scope_for(acting_user).can_edit_office(office):
        raise PermissionDenied
    office = Office.objects.select_for_update().get(pk=office.pk)
    before = audit.snapshot(office, OFFICE_FIELDS)
    for name, value in fields.items():
        setattr(office, name, value)
    office.validate_constraints()
    office.save()
    changes = audit.diff(office, before, OFFICE_FIELDS)
    if changes:
        audit.record(AuditEvent.Kind.OFFICE_UPDATE, actor=acting_user, target=office, changes=changes, request=request)
    return office


def _require_can_place(acting_user, office: Office):
    if not scope_for(acting_user).can_create_under(office):
        raise PermissionDenied


@transaction.atomic
def create_institution(office: Office, *, acting_user, request=None, **fields) -> Institution:
    _require_can_place(acting_user, office)
    institution = Institution(office=office, region_id=office.region_id, **fields)
    institution.validate_constraints()
    institution.save()
    audit.record(
        AuditEvent.Kind.INSTITUTION_CREATE,
        actor=acting_user,
        target=institution,
        changes=audit.diff(institution, {}, INSTITUTION_FIELDS),
        request=request,
    )
    return institution


@transaction.atomic
def update_institution(institution: Institution, *, acting_user, request=None, **fields) -> Institution:
    scope = scope_for(acting_user)
    if not scope.can_edit_institution(institution):
        raise PermissionDenied
    if "office" in fields:
        _require_can_place(acting_user, fields["office"])
    institution = Institution.objects.select_for_update().get(pk=institution.pk)
    before = audit.snapshot(institution, INSTITUTION_FIELDS)
    for name, value in fields.items():
        setattr(institution, name, value)
    institution.region_id = institution.office.region_id
    institution.validate_constraints()
    institution.save()
    changes = audit.diff(institution, before, INSTITUTION_FIELDS)
    if changes:
        audit.record(
            AuditEvent.Kind.INSTITUTION_UPDATE,
            actor=acting_user,
            target=institution,
            changes=changes,
            request=request,
        )
    return institution


PROFILE_FIELDS = (
    "uscc",
    "licence_number",
    "licence_valid_until",
    "category",
    "category_code",
    "level",
    "grade",
    "ownership",
    "profit_status",
    "address",
    "head_name",
    "contact_person",
    "contact_phone",
    "departments",
)


@transaction.atomic
def update_profile(institution: Institution, *, acting_user, request=None, **fields) -> Institution:
    """Save (part of) the institution's own profile.

    Only the institution's own accounts holding ``change_institution`` may: the offices above see the profile but
    do not edit it. Raises ``ValidationError`` (keyed by field) for invalid values or a code already in use.
    """
    if not scope_for(acting_user).has_institution_perm(CHANGE_INSTITUTION, institution):
        raise PermissionDenied
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"not profile fields: {', '.join(sorted(unknown))}")
    institution = Institution.objects.select_for_update().get(pk=institution.pk)
    before = audit.snapshot(institution, PROFILE_FIELDS)
    for name, value in fields.items():
        setattr(institution, name, value)
    institution.uscc = identifiers.normalize_identifier(institution.uscc or "")
    institution.clean_fields(exclude=[f.name for f in Institution._meta.concrete_fields if f.name not in fields])
    institution.validate_constraints()
    try:
        with transaction.atomic():
            institution.save()
    except IntegrityError as error:
        # Another transaction took the same code between the check above and this save.
        if getattr(getattr(error.__cause__, "diag", None), "constraint_name", None) == "institution_unique_uscc":
            constraint = next(c for c in Institution._meta.constraints if c.name == "institution_unique_uscc")
            raise ValidationError({"uscc": [constraint.violation_error_message]}) from error
        raise
    changes = audit.diff(institution, before, PROFILE_FIELDS)
    if "departments" in changes:
        # Keep the lists as JSON lists rather than their string form.
        changes["departments"] = [list(before["departments"] or []), list(institution.departments)]
    if changes:
        audit.record(
            AuditEvent.Kind.INSTITUTION_UPDATE,
            actor=acting_user,
            target=institution,
            changes=changes,
            request=request,
        )
    return institution
