from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts import actions, audit
from accounts.forms import ForcedPasswordChangeForm, IssueAccountForm
from accounts.models import AuditEvent, User
from institutions.forms import SearchForm
from institutions.scope import scope_for


def _account_for(request, public_id) -> User:
    """An account the user may manage; anything else (including his own) is not found."""
    accounts = scope_for(request.user).accounts(User.objects.select_related("office", "institution"))
    return get_object_or_404(accounts, public_id=public_id)


def _node_for(request, kind, public_id):
    scope = scope_for(request.user)
    if kind == "office":
        return get_object_or_404(scope.offices(), public_id=public_id)
    return get_object_or_404(scope.institutions().select_related("office"), public_id=public_id)


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


@login_required
def account_detail(request, public_id):
    account = _account_for(request, public_id)
    events = AuditEvent.objects.filter(target_type="user", target_id=str(account.public_id))[:20]
    return render(request, "accounts/account_detail.html", {"account": account, "events": events})


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
def password_change(request):
    form = ForcedPasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save(commit=False)
        user.must_change_password = False
        user.save()
        update_session_auth_hash(request, user)
        audit.record(AuditEvent.Kind.PASSWORD_CHANGE, actor=user, target=user, request=request)
        messages.success(request, _("Your password has been changed."))
        return redirect("home")
    return render(request, "accounts/password_change.html", {"form": form})


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
