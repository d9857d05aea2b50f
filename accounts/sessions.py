"""The session registry: which sessions an account has open, their timeouts, and ending them.

Each login adds a ``UserSession`` row keyed by the SHA-256 of the session key. ``SessionRegistryMiddleware``
refuses an authenticated session without a row, or whose row says it has been idle for more than
SESSION_IDLE_SECONDS or open for more than SESSION_ABSOLUTE_SECONDS. Ending sessions is therefore deleting rows:
no session store is scanned and no session key is ever stored outside Django's own session table.

Cost: nothing beyond the session's own query (accounts.session_store reads the row with it), and one update of
``last_seen`` at most once a minute.
"""

import datetime
import hashlib

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from accounts.models import UserSession
from hbwsrc import ratelimit

# last_seen is written when it is older than this: the idle timeout is exact to within a minute.
LAST_SEEN_RESOLUTION = datetime.timedelta(seconds=60)


def key_hash(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()


def register(request, user) -> UserSession:
    """Record the session ``request`` has just logged ``user`` into; drop his sessions that are over anyway."""
    session = request.session
    if session.session_key is None:  # login() after flush(): the new key is only made on save
        session.save()
    now = timezone.now()
    UserSession.objects.filter(user=user).filter(_over_condition(now)).delete()
    return UserSession.objects.create(
        user=user,
        key_hash=key_hash(session.session_key),
        created_at=now,
        last_seen=now,
        ip_address=ratelimit.client_ip(request) or None,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
    )


def _over_condition(now):
    return Q(last_seen__lt=now - idle_limit()) | Q(created_at__lt=now - absolute_limit())


def idle_limit() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.SESSION_IDLE_SECONDS)


def absolute_limit() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.SESSION_ABSOLUTE_SECONDS)


def current(request) -> UserSession | None:
    """The registry row of the request's session, or None (no key, or not registered)."""
    key = request.session.session_key
    if not key:
        return None
    read = getattr(request.session, "registry_read", None)  # accounts.session_store read it with the session
    if read is not None and read[0] == key:
        return read[1]
    return UserSession.objects.filter(key_hash=key_hash(key)).first()


def check(request, user) -> str | None:
    """None while the session may go on; otherwise why it ends ("unknown", "idle" or "absolute")."""
    row = current(request)
    if row is None or row.user_id != user.pk:
        return "unknown"
    now = timezone.now()
    if now - row.created_at > absolute_limit():
        row.delete()
        return "absolute"
    if now - row.last_seen > idle_limit():
        row.delete()
        return "idle"
    if now - row.last_seen > LAST_SEEN_RESOLUTION:
        UserSession.objects.filter(pk=row.pk).update(last_seen=now)
    return None


def rekey(old_key: str, new_key: str) -> None:
    """The session got a new key (e.g. ``update_session_auth_hash``, the second factor): follow it."""
    UserSession.objects.filter(key_hash=key_hash(old_key)).update(key_hash=key_hash(new_key))


def forget(session_key: str | None) -> None:
    if session_key:
        UserSession.objects.filter(key_hash=key_hash(session_key)).delete()


def active_for(user):
    now = timezone.now()
    return UserSession.objects.filter(user=user).exclude(_over_condition(now))


def end_all(user) -> int:
    """End every session of ``user`` (his account was disabled, his password reset, his device reset)."""
    count, _details = UserSession.objects.filter(user=user).delete()
    return count


def end_others(user, request) -> int:
    """End every session of ``user`` except the one ``request`` belongs to."""
    others = UserSession.objects.filter(user=user)
    if request.session.session_key:
        others = others.exclude(key_hash=key_hash(request.session.session_key))
    count, _details = others.delete()
    return count
