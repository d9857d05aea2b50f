import django_otp
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_static.models import StaticDevice

from accounts import actions, audit, sessions, two_factor
from accounts.forms import ForcedPasswordChangeForm, IssueAccountForm, TokenForm
from accounts.models import AuditEvent, User
from hbwsrc import ratelimit
from hbwsrc.db import get_or_404
from institutions.forms import SearchForm
from institutions.scope import scope_for


def _account_for(request, public_id) -> User:
    """An account the user may manage; anything else (including his own) is not found."""
    accounts = scope_for(request.user).accounts(User.objects.select_related("office", "institution"))
    return get_or_404(accounts, public_id=public_id)


def _node_for(request, kind, public_id):
    scope = scope_for(request.user)
    if kind == "office":
        return get_or_404(scope.offices(), public_id=public_id)
    return get_or_404(scope.institutions().select_related("office"), public_id=public_id)


@login_required
def account_list(request):
    form = SearchForm(request.GET)
    accounts = scope_for(request.user).accounts(User.objects.select_related("office", "institution"))
    if form.is_valid() and (q := form.cleaned_data["q"].strip()):
        accounts = accounts.filter(
            Q(username__icontains=q)
            | Q(full_name__icontains=q)
            | Q(office__name__icontains=q)
            | Q(institution__name__icontains=q)
        )
    page = Paginator(accounts.order_by("username"), 50).get_page(request.GET.get("page"))
    return render(request, "accounts/account_list.html", {"page": page, "form": form})


def is_locked_out(username: str) -> bool:
    """Whether django-axes currently refuses logins for ``username`` (the address lockout aside)."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    recent = AccessAttempt.objects.filter(username=username, attempt_time__gte=since)
    return (recent.aggregate(n=Sum("failures_since_start"))["n"] or 0) >= settings.AXES_FAILURE_LIMIT


@login_required
def account_detail(request, public_id):
    account = _account_for(request, public_id)
    events = AuditEvent.objects.filter(target_type="user", target_id=str(account.public_id))[:20]
    context = {
        "account": account,
        "events": events,
        "locked_out": is_locked_out(account.username),
        "has_two_factor": two_factor.has_authenticator(account),
    }
    return render(request, "accounts/account_detail.html", context)


@never_cache
@login_required
def issue_account(request, kind, public_id):
    node = _node_for(request, kind, public_id)
    if not scope_for(request.user).can_issue_account_for(node):
        raise PermissionDenied
    form = IssueAccountForm(request.POST or None, issuer=request.user, node=node)
    if request.method == "POST" and form.is_valid():
        try:
            account, password = actions.issue_account(
                node, acting_user=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            # The slip is the only place the one-time password is ever shown; it is not stored anywhere.
            return render(request, "accounts/account_slip.html", {"account": account, "password": password})
    return render(request, "accounts/issue_account.html", {"form": form, "node": node})


def _confirmed_action(request, public_id, *, template, perform, done_message):
    account = _account_for(request, public_id)
    if not scope_for(request.user).can_manage_account(account):
        raise PermissionDenied
    if request.method == "POST":
        result = perform(account)
        if isinstance(result, str):
            return render(request, "accounts/account_slip.html", {"account": account, "password": result})
        messages.success(request, done_message % {"username": account.username})
        return redirect(account)
    return render(request, template, {"account": account})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account_disable(request, public_id):
    return _confirmed_action(
        request,
        public_id,
        template="accounts/confirm_disable.html",
        perform=lambda a: actions.set_account_active(a, False, acting_user=request.user, request=request),
        done_message=_("Account %(username)s disabled."),
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account_enable(request, public_id):
    return _confirmed_action(
        request,
        public_id,
        template="accounts/confirm_enable.html",
        perform=lambda a: actions.set_account_active(a, True, acting_user=request.user, request=request),
        done_message=_("Account %(username)s enabled."),
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account_reset_password(request, public_id):
    return _confirmed_action(
        request,
        public_id,
        template="accounts/confirm_reset.html",
        perform=lambda a: actions.reset_password(a, acting_user=request.user, request=request),
        done_message="",
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account_unlock(request, public_id):
    return _confirmed_action(
        request,
        public_id,
        template="accounts/confirm_unlock.html",
        perform=lambda a: actions.unlock_account(a, acting_user=request.user, request=request),
        done_message=_("Account %(username)s unlocked."),
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account_reset_two_factor(request, public_id):
    return _confirmed_action(
        request,
        public_id,
        template="accounts/confirm_reset_two_factor.html",
        perform=lambda a: actions.reset_two_factor(a, acting_user=request.user, request=request),
        done_message=_("The two-factor device of %(username)s was removed; the holder sets up a new one."),
    )


@never_cache
@login_required
def password_change(request):
    form = ForcedPasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save(commit=False)
        user.must_change_password = False
        user.save()
        # Django's session hash already refuses the other sessions; their registry rows go as well.
        ended = sessions.end_others(user, request)
        update_session_auth_hash(request, user)
        audit.record(
            AuditEvent.Kind.PASSWORD_CHANGE,
            actor=user,
            target=user,
            changes={"other_sessions_ended": ended},
            request=request,
        )
        messages.success(request, _("Your password has been changed."))
        return redirect("home")
    return render(request, "accounts/password_change.html", {"form": form})


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


def lockout(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out login: the same for every username, existing or not."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    response = render(request, "accounts/lockout.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


# --- own sessions ------------------------------------------------------------------------------------------------


@never_cache
@login_required
def session_list(request):
    current = request.session.session_key and sessions.key_hash(request.session.session_key)
    rows = sessions.active_for(request.user)
    return render(request, "accounts/session_list.html", {"rows": rows, "current_hash": current})


def _end_session_rows(request, rows):
    for row in rows:
        audit.record(
            AuditEvent.Kind.SESSION_END,
            actor=request.user,
            target=request.user,
            changes={"session": str(row.public_id), "ip_address": row.ip_address},
            request=request,
        )
        row.delete()


@login_required
@require_POST
def session_end(request, public_id):
    row = get_object_or_404(sessions.active_for(request.user), public_id=public_id)
    if request.session.session_key and row.key_hash == sessions.key_hash(request.session.session_key):
        raise PermissionDenied  # this session ends by logging out
    _end_session_rows(request, [row])
    messages.success(request, _("The session was ended."))
    return redirect("accounts:sessions")


@login_required
@require_POST
def session_end_others(request):
    rows = sessions.active_for(request.user)
    if request.session.session_key:
        rows = rows.exclude(key_hash=sessions.key_hash(request.session.session_key))
    rows = list(rows)
    _end_session_rows(request, rows)
    messages.success(request, _("Every other session was ended."))
    return redirect("accounts:sessions")


# --- two-factor authentication ------------------------------------------------------------------------------


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


def _passed_second_factor(request, device) -> None:
    django_otp.login(request, device)
    request.session[two_factor.SESSION_FLAG] = True
    request.session.cycle_key()  # a new session id for the higher privilege (the registry follows the key)


@never_cache
@login_required
def two_factor_manage(request):
    user = request.user
    context = {
        "has_authenticator": two_factor.has_authenticator(user),
        "codes_left": two_factor.recovery_codes_left(user),
        "required": two_factor.required_by_role(user),
    }
    return render(request, "accounts/two_factor.html", context)


@never_cache
@login_required
def two_factor_setup(request):
    """Show a new secret (QR code and text), and confirm it with a first code from the app."""
    user = request.user
    if two_factor.has_authenticator(user):
        return redirect("accounts:two_factor")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = two_factor.confirm_pending(request, form.cleaned_data["token"])
        if device is not None:
            codes = two_factor.new_recovery_codes(user)
            _passed_second_factor(request, device)
            audit.record(AuditEvent.Kind.TWO_FACTOR_ENABLE, actor=user, target=user, request=request)
            return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": _next_url(request)})
        audit.record(AuditEvent.Kind.TWO_FACTOR_FAILED, actor=user, target=user, request=request)
        form.add_error("token", _("This code is not valid. Check that the phone's clock is right and try again."))
    pending = two_factor.pending_authenticator(request)
    uri = pending.config_url
    context = {
        "form": form,
        "qr_svg": two_factor.qr_svg(uri),
        "secret": two_factor.secret_base32(pending),
        "uri": uri,
        "next": _next_url(request),
        "required": two_factor.required_by_role(user),
    }
    return render(request, "accounts/two_factor_setup.html", context)


@never_cache
@login_required
def two_factor_verify(request):
    """The second step of a login: a code from the app, or one of the recovery codes."""
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        limit, window = settings.TWO_FACTOR_RATE_LIMIT
        if not ratelimit.hit("two_factor", str(user.pk), limit, window):
            response = render(
                request, "accounts/two_factor_verify.html", {"form": TokenForm(), "limited": True}, status=429
            )
            response["Retry-After"] = str(window)
            return response
        device = two_factor.verify(user, form.cleaned_data["token"])
        if device is not None:
            _passed_second_factor(request, device)
            if isinstance(device, StaticDevice):
                left = two_factor.recovery_codes_left(user)
                messages.warning(
                    request,
                    _("You used a recovery code; %(left)s are left. Set up new codes on the two-factor page.")
                    % {"left": left},
                )
            return redirect(_next_url(request))
        audit.record(AuditEvent.Kind.TWO_FACTOR_FAILED, actor=user, target=user, request=request)
        form.add_error("token", _("This code is not valid."))
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": _next_url(request)})


@never_cache
@login_required
@require_POST
def recovery_codes(request):
    """New recovery codes, shown once; the old ones stop working."""
    user = request.user
    if not (user.is_verified() and two_factor.has_authenticator(user)):
        raise PermissionDenied
    codes = two_factor.new_recovery_codes(user)
    audit.record(AuditEvent.Kind.RECOVERY_CODES, actor=user, target=user, request=request)
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": "/"})


@login_required
@require_POST
def two_factor_disable(request):
    """Accounts that may go without it remove their own second factor (after passing it in this session)."""
    user = request.user
    if two_factor.required_by_role(user) or not user.is_verified():
        raise PermissionDenied
    two_factor.delete_devices(user)
    request.session[two_factor.SESSION_FLAG] = False
    request.session.pop(django_otp.DEVICE_ID_SESSION_KEY, None)
    audit.record(AuditEvent.Kind.TWO_FACTOR_DISABLE, actor=user, target=user, request=request)
    messages.success(request, _("Two-factor authentication is off for your account."))
    return redirect("accounts:two_factor")
