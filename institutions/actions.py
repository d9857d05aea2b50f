"""State changes on the hierarchy. Each checks the actor's rights, runs in one transaction and is audited."""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from accounts import audit
from accounts.models import AuditEvent
from institutions.models import Institution, Office
from institutions.scope import scope_for

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
