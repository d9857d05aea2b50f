from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts import audit
from accounts.models import AuditEvent


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    audit.record(AuditEvent.Kind.LOGIN, actor=user, target=user, request=request)


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit.record(AuditEvent.Kind.LOGOUT, actor=user, target=user, request=request)


@receiver(user_login_failed)
def audit_failed_login(sender, credentials, request=None, **kwargs):
    # The username is recorded as typed; whether such an account exists is not revealed to the user.
    audit.record(
        AuditEvent.Kind.LOGIN_FAILED,
        actor_username=str(credentials.get("username", ""))[:150],
        request=request,
    )
