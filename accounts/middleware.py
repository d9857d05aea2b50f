from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware as DjangoOTPMiddleware

from accounts import sessions, two_factor


def _is_static(path: str) -> bool:
    return path.startswith("/static/")


def _always_allowed() -> set[str]:
    return {reverse("accounts:logout"), reverse("set_language")}


def _two_factor_paths() -> set[str]:
    return {reverse("accounts:two_factor_setup"), reverse("accounts:two_factor_verify")}


class SessionRegistryMiddleware:
    """End sessions that are idle, too old, or ended elsewhere (see accounts.sessions); follow key changes."""

    MESSAGES = {
        "idle": _("You were logged out after 30 minutes without activity."),
        "absolute": _("You were logged out: a session lasts at most 12 hours."),
    }

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key_before = request.session.session_key
        user = request.user
        if user.is_authenticated:
            reason = sessions.check(request, user)
            if reason is not None:
                request.session.flush()
                request.user = AnonymousUser()
                if reason in ("idle", "absolute"):
                    messages.info(request, self.MESSAGES[reason])
                user = request.user
        response = self.get_response(request)
        key_after = request.session.session_key
        if user.is_authenticated and key_before and key_after and key_after != key_before:
            if request.user.is_authenticated and request.user.pk == user.pk:
                sessions.rekey(key_before, key_after)
        return response


class OTPMiddleware(DjangoOTPMiddleware):
    """django-otp's middleware, taking the device the session passed the second factor with from the account's
    devices read with the session (accounts.session_store) rather than in a query of its own. As django-otp does,
    a device that is not the account's or not confirmed does not count, and is forgotten by the session."""

    def _verify_user_sync(self, request, user):
        persistent_id = request.session.get(DEVICE_ID_SESSION_KEY) if user.is_authenticated else None
        if not persistent_id:
            return super()._verify_user_sync(request, user)
        read, device = two_factor.device_read_with_session(user, self._normalize_persistent_id(persistent_id))
        if not read:
            return super()._verify_user_sync(request, user)
        self._init_user_fields(user)
        user.otp_device = self._finalize_device(request, user, device)
        return user


class NoStoreMiddleware:
    """Pages shown to a logged-in account carry personal data: no browser or proxy may keep a copy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated:
            add_never_cache_headers(response)
        return response


class PasswordChangeRequiredMiddleware:
    """Send users holding a one-time or an expired password to the password change page until they pick one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and (user.must_change_password or user.password_expired):
            allowed = {reverse("accounts:password_change"), *_always_allowed(), *_two_factor_paths()}
            if request.path not in allowed and not _is_static(request.path):
                return redirect("accounts:password_change")
        return self.get_response(request)


class TwoFactorRequiredMiddleware:
    """Until the session has passed the second factor, an account that needs one reaches only the pages to
    set it up or to give it (and logging out). A one-time password is changed first (the middleware above)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and not user.must_change_password
            and not user.is_verified()
            and (request.session.get(two_factor.SESSION_FLAG) or two_factor.required_by_role(user))
            and request.path not in {*_always_allowed(), *_two_factor_paths()}
            and not _is_static(request.path)
        ):
            target = "accounts:two_factor_verify" if two_factor.has_authenticator(user) else "accounts:two_factor_setup"
            next_path = request.get_full_path() if request.method == "GET" else reverse("home")
            return redirect(f"{reverse(target)}?{urlencode({'next': next_path})}")
        return self.get_response(request)
