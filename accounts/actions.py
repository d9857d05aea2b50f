"""State changes on accounts. Each one checks the actor's rights, runs in one transaction and is audited."""

import datetime
import secrets
import string

from axes.utils import reset as axes_reset
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm

from accounts import audit, sessions, two_factor
from accounts.models import AuditEvent, User
from institutions.models import Office
from institutions.scope import (
    CHANGE_INSTITUTION,
    INSTITUTION_PERMISSIONS,
    MANAGE_RECORDS,
    MANAGE_STAFF,
    OFFICE_PERMISSIONS,
    VIEW_INSTITUTION,
    VIEW_OFFICE,
    forget_scope,
    scope_for,
)

STAFF_PERMISSIONS = (VIEW_INSTITUTION, CHANGE_INSTITUTION, MANAGE_RECORDS)
_PASSWORD_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")


def generate_one_time_password(length: int = 14) -> str:
    """A random password without look-alike characters, with at least one letter and one digit."""
    while True:
        password = "".join(secrets.choice(_PASSWORD_ALPHABET) for _position in range(length))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def grantable_permissions(issuer, node) -> tuple[str, ...]:
    """The permissions ``issuer`` may put on a new account at ``node``: never more than he holds himself."""
    scope = scope_for(issuer)
    if isinstance(node, Office):
        held = scope.office_perms(node)
        return tuple(perm for perm in OFFICE_PERMISSIONS if perm in held)
    if scope.has_institution_perm(MANAGE_STAFF, node):
        return tuple(perm for perm in STAFF_PERMISSIONS if scope.has_institution_perm(perm, node))
    return INSTITUTION_PERMISSIONS


def issues_master_account(issuer, node) -> bool:
    """Offices issue an institution's master account; the master issues its staff accounts."""
    return not isinstance(node, Office) and not scope_for(issuer).has_institution_perm(MANAGE_STAFF, node)


@transaction.atomic
def issue_account(node, *, username, full_name="", phone="", permissions=None, acting_user, request=None):
    """Create an account at ``node`` with a one-time password; return ``(account, password)``."""
    scope = scope_for(acting_user)
    if not scope.can_issue_account_for(node):
        raise PermissionDenied
    grantable = grantable_permissions(acting_user, node)
    is_master = issues_master_account(acting_user, node)
    if is_master:
        permissions = INSTITUTION_PERMISSIONS
    else:
        view = VIEW_OFFICE if isinstance(node, Office) else VIEW_INSTITUTION
        permissions = {view, *(permissions or ())}
        refused = sorted(set(permissions) - set(grantable))
        if refused:
            raise ValidationError(
                _("You cannot grant permissions you do not hold: %(perms)s"),
                params={"perms": ", ".join(refused)},
            )
    if is_master and User.objects.filter(institution=node, is_master=True).exists():
        raise ValidationError(_("This institution already has a master account."))
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(_("The username %(username)s is taken."), params={"username": username})

    password = generate_one_time_password()
    account = User(
        username=username,
        full_name=full_name,
        phone=phone,
        is_master=is_master,
        must_change_password=True,
        issued_by=acting_user,
    )
    if isinstance(node, Office):
        account.office = node
    else:
        account.institution = node
    account.set_password(password)
    account.one_time_password_expires_at = one_time_password_expiry()
    account.save()
    for perm in sorted(permissions):
        assign_perm(perm, account, node)
    forget_scope(account)
    audit.record(
        AuditEvent.Kind.ACCOUNT_ISSUE,
        actor=acting_user,
        target=account,
        changes={"node": str(node), "permissions": sorted(permissions), "master": is_master},
        request=request,
    )
    return account, password


def one_time_password_expiry() -> datetime.datetime:
    return timezone.now() + datetime.timedelta(hours=settings.ONE_TIME_PASSWORD_HOURS)


def end_sessions(account) -> None:
    """End every session of ``account`` at once: its registry rows go, and the middleware refuses the rest."""
    sessions.end_all(account)


def _require_manageable(account, acting_user):
    if account.pk == acting_user.pk or not scope_for(acting_user).can_manage_account(account):
        raise PermissionDenied


@transaction.atomic
def set_account_active(account, active: bool, *, acting_user, request=None):
    """Disable or re-enable an account. Disabling deletes its sessions: enabling it again revives none of them."""
    _require_manageable(account, acting_user)
    if account.is_active == active:
        return
    account.is_active = active
    account.save(update_fields=["is_active"])
    if not active:
        end_sessions(account)
    kind = AuditEvent.Kind.ACCOUNT_ENABLE if active else AuditEvent.Kind.ACCOUNT_DISABLE
    audit.record(kind, actor=acting_user, target=account, changes={"is_active": [not active, active]}, request=request)


@transaction.atomic
def reset_password(account, *, acting_user, request=None) -> str:
    """Give ``account`` a new one-time password (ending its sessions) and return it."""
    _require_manageable(account, acting_user)
    password = generate_one_time_password()
    account.set_password(password)
    account.must_change_password = True
    account.one_time_password_expires_at = one_time_password_expiry()
    account.save(
        update_fields=["password", "must_change_password", "password_changed_at", "one_time_password_expires_at"]
    )
    end_sessions(account)
    audit.record(AuditEvent.Kind.ACCOUNT_RESET_PASSWORD, actor=acting_user, target=account, request=request)
    return password


@transaction.atomic
def unlock_account(account, *, acting_user, request=None) -> int:
    """Lift a login lockout of ``account``'s username before its cool-off ends; return the attempts cleared."""
    _require_manageable(account, acting_user)
    cleared = axes_reset(username=account.get_username())
    audit.record(
        AuditEvent.Kind.ACCOUNT_UNLOCK, actor=acting_user, target=account, changes={"cleared": cleared}, request=request
    )
    return cleared


@transaction.atomic
def reset_two_factor(account, *, acting_user, request=None) -> None:
    """Remove a lost authenticator and the recovery codes: the holder sets up a new one at the next login.

    His sessions end too: whoever holds the lost device may be the one using them.
    """
    _require_manageable(account, acting_user)
    removed = two_factor.delete_devices(account)
    end_sessions(account)
    audit.record(
        AuditEvent.Kind.TWO_FACTOR_RESET,
        actor=acting_user,
        target=account,
        changes={"devices": removed},
        request=request,
    )
