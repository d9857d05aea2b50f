from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts import audit, sessions, two_factor
from accounts.models import AuditEvent


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    audit.record(AuditEvent.Kind.LOGIN, actor=user, target=user, request=request)


@receiver(user_logged_in)
def register_session(sender, request, user, **kwargs):
    # Decided once per session: must this session pass the second factor before anything else?
    request.session[two_factor.SESSION_FLAG] = two_factor.required_for(user)
    sessions.register(request, user)


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit.record(AuditEvent.Kind.LOGOUT, actor=user, target=user, request=request)
    sessions.forget(request.session.session_key)


@receiver(user_login_failed)
def audit_failed_login(sender, credentials, request=None, **kwargs):
    # The username is recorded as typed; whether such an account exists is not revealed to the user.
    audit.record(
        AuditEvent.Kind.LOGIN_FAILED,
        actor_username=str(credentials.get("username", ""))[:150],
        request=request,
    )


@receiver(user_locked_out)
def audit_lockout(sender, request, username, ip_address, **kwargs):
    """django-axes refused (or is about to refuse) a login: the username or the address is locked out."""
    audit.record(
        AuditEvent.Kind.LOGIN_LOCKED_OUT,
        actor_username=str(username or "")[:150],
        changes={"ip_address": ip_address},
        request=request,
    )
