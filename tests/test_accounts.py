"""Issuing, disabling, enabling and resetting accounts, the forced password change, and the audit trail."""

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.utils import ProgrammingError
from django.test import Client
from django.urls import reverse
from django.utils import translation
from guardian.shortcuts import get_perms

from accounts import actions
from accounts.models import AuditEvent, User
from institutions.models import InstitutionUserObjectPermission, OfficeUserObjectPermission
from tests.world import PASSWORD, make_account

NEW_PASSWORD = "Lotus-Yellow-Crane-77"


def zh(message: str) -> str:
    """``message`` as the zh-hans interface shows it (English until the catalogue translates it)."""
    with translation.override("zh-hans"):
        return translation.gettext(message)


def issue_url(node) -> str:
    kind = "institution" if node._meta.model_name == "institution" else "office"
    return reverse(f"accounts:issue_{kind}", args=[node.public_id])


def issue(client, node, **data):
    return client.post(issue_url(node), data)


def form_error_codes(response, field) -> set[str]:
    return {error.code for error in response.context["form"].errors.as_data().get(field, [])}


def audit_events(kind, target=None):
    events = AuditEvent.objects.filter(kind=kind)
    if target is not None:
        events = events.filter(target_type="user", target_id=str(target.public_id))
    return list(events)


def log_in(client, username, password) -> bool:
    """Log in through the login form, as a person does (django-axes watches this path; Client.login bypasses
    the request it needs)."""
    response = client.post(reverse("accounts:login"), {"username": username, "password": password})
    return response.status_code == 302


def logged_in_client(user, password=PASSWORD) -> Client:
    client = Client()
    assert log_in(client, user.username, password)
    return client


# --- issuing ---------------------------------------------------------------------------------------------------


def test_account_slip_shows_the_one_time_password_which_is_not_stored_in_clear(world):
    client = world.client_for(world.wuhan_user)
    response = issue(client, world.wuchang, username="wuchang_clerk", full_name="张三")
    assert response.status_code == 200
    assert response.templates[0].name == "accounts/account_slip.html"
    password = response.context["password"]
    html = response.content.decode()
    assert f'id="slip-password">{password}<' in html
    assert 'id="slip-username">wuchang_clerk<' in html

    account = User.objects.get(username="wuchang_clerk")
    assert account.must_change_password
    assert account.check_password(password)
    assert password not in account.password
    assert account.issued_by == world.wuhan_user
    assert account.office == world.wuchang
    # Nowhere in the database in clear: not in any account column, not in the audit trail.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_user WHERE accounts_user::text LIKE %s", [f"%{password}%"])
        assert cursor.fetchone()[0] == 0
        cursor.execute(
            "SELECT count(*) FROM accounts_auditevent WHERE accounts_auditevent::text LIKE %s", [f"%{password}%"]
        )
        assert cursor.fetchone()[0] == 0
    # Shown once: neither the account page nor the issue form shows it again.
    assert password not in client.get(account.get_absolute_url()).content.decode()
    assert password not in client.get(issue_url(world.wuchang)).content.decode()


def test_issued_office_account_gets_the_permissions_ticked_and_view_office(world):
    response = issue(
        world.client_for(world.wuhan_user), world.wuchang, username="wuchang_reader", permissions=["manage_accounts"]
    )
    assert response.status_code == 200
    account = User.objects.get(username="wuchang_reader")
    assert set(get_perms(account, world.wuchang)) == {"view_office", "manage_accounts"}
    assert not account.is_master


def test_new_account_is_forced_to_the_password_change_page_on_any_url(world):
    account, password = actions.issue_account(
        world.hongshan.institutions.create(name="洪山区第二医院"),
        username="hs2_master",
        acting_user=world.hongshan_user,
    )
    client = logged_in_client(account, password)
    change_url = reverse("accounts:password_change")
    for url in (
        reverse("home"),
        account.institution.get_absolute_url(),
        reverse("accounts:list"),
        reverse("institutions:institution_list"),
        reverse("institutions:office_list"),
        issue_url(account.institution),
        "/admin/",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == change_url, url
    assert client.get(change_url).status_code == 200


def test_password_change_must_differ_from_the_one_time_password(world):
    account, password = actions.issue_account(world.wuchang, username="wc_new", acting_user=world.wuhan_user)
    client = logged_in_client(account, password)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": password, "new_password1": password, "new_password2": password},
    )
    assert response.status_code == 200
    assert "new_password1" in response.context["form"].errors
    assert zh("Choose a password different from the one-time password.") in response.content.decode()
    account.refresh_from_db()
    assert account.must_change_password
    assert account.check_password(password)
    assert client.get(reverse("home"))["Location"] == reverse("accounts:password_change")


@pytest.mark.parametrize(
    "new_password,code",
    [
        ("Short-Pw-1", "password_too_short"),
        ("password1234", "password_too_common"),
        ("738291046583", "password_entirely_numeric"),
    ],
)
def test_password_change_applies_the_password_validators(world, new_password, code):
    account, password = actions.issue_account(world.wuchang, username="wc_new", acting_user=world.wuhan_user)
    client = logged_in_client(account, password)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": password, "new_password1": new_password, "new_password2": new_password},
    )
    assert response.status_code == 200
    assert code in form_error_codes(response, "new_password2")
    account.refresh_from_db()
    assert account.must_change_password
    assert account.check_password(password)


def test_password_change_with_a_good_password_releases_the_account(world):
    account, password = actions.issue_account(world.wuchang, username="wc_new", acting_user=world.wuhan_user)
    client = logged_in_client(account, password)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    account.refresh_from_db()
    assert not account.must_change_password
    assert account.check_password(NEW_PASSWORD)
    # The session survives the change and the account now reaches its own office.
    response = client.get(reverse("home"))
    assert response["Location"] == world.wuchang.get_absolute_url()
    assert client.get(world.wuchang.get_absolute_url()).status_code == 200
    [event] = audit_events(AuditEvent.Kind.PASSWORD_CHANGE, account)
    assert event.actor == account
    assert NEW_PASSWORD not in json.dumps(event.changes)


def test_password_change_requires_the_current_password(world):
    account, password = actions.issue_account(world.wuchang, username="wc_new", acting_user=world.wuhan_user)
    client = logged_in_client(account, password)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": "not-the-password", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    account.refresh_from_db()
    assert account.must_change_password


def test_prefecture_account_cannot_grant_manage_office_it_does_not_hold(world):
    clerk = make_account("wuhan_clerk", world.wuhan, perms=("view_office", "manage_accounts"))
    users_before = User.objects.count()
    grants_before = OfficeUserObjectPermission.objects.count()
    response = issue(
        world.client_for(clerk), world.wuchang, username="forged", permissions=["view_office", "manage_office"]
    )
    assert response.status_code == 200
    assert "invalid_choice" in form_error_codes(response, "permissions")
    assert User.objects.count() == users_before
    assert OfficeUserObjectPermission.objects.count() == grants_before
    assert not audit_events(AuditEvent.Kind.ACCOUNT_ISSUE)


def test_prefecture_account_cannot_grant_manage_office_even_calling_the_action_directly(world):
    clerk = make_account("wuhan_clerk", world.wuhan, perms=("view_office", "manage_accounts"))
    with pytest.raises(ValidationError):
        actions.issue_account(world.wuchang, username="forged", permissions=["manage_office"], acting_user=clerk)
    assert not User.objects.filter(username="forged").exists()


def test_prefecture_account_may_grant_what_it_holds(world):
    clerk = make_account("wuhan_clerk", world.wuhan, perms=("view_office", "manage_accounts"))
    response = issue(world.client_for(clerk), world.wuchang, username="granted", permissions=["manage_accounts"])
    assert response.status_code == 200
    assert set(get_perms(User.objects.get(username="granted"), world.wuchang)) == {"view_office", "manage_accounts"}


def test_master_cannot_grant_manage_staff_to_a_staff_account(world):
    grants_before = InstitutionUserObjectPermission.objects.count()
    response = issue(
        world.client_for(world.master),
        world.wuchang_hospital,
        username="forged_staff",
        permissions=["manage_records", "manage_staff"],
    )
    assert response.status_code == 200
    assert "invalid_choice" in form_error_codes(response, "permissions")
    assert not User.objects.filter(username="forged_staff").exists()
    assert InstitutionUserObjectPermission.objects.count() == grants_before
    with pytest.raises(ValidationError):
        actions.issue_account(
            world.wuchang_hospital, username="forged_staff", permissions=["manage_staff"], acting_user=world.master
        )
    assert not User.objects.filter(username="forged_staff").exists()


def test_master_issues_a_staff_account_without_manage_staff(world):
    response = issue(
        world.client_for(world.master), world.wuchang_hospital, username="nurse", permissions=["manage_records"]
    )
    assert response.status_code == 200
    nurse = User.objects.get(username="nurse")
    assert not nurse.is_master
    assert nurse.institution == world.wuchang_hospital
    assert set(get_perms(nurse, world.wuchang_hospital)) == {"view_institution", "manage_records"}


def test_office_issuing_a_second_master_account_gets_a_clear_error(world):
    users_before = User.objects.count()
    response = issue(world.client_for(world.wuchang_user), world.wuchang_hospital, username="second_master")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [zh("This institution already has a master account.")]
    assert 'role="alert"' in response.content.decode()
    assert User.objects.count() == users_before
    assert User.objects.filter(institution=world.wuchang_hospital, is_master=True).get() == world.master


def test_office_issues_the_master_account_of_an_institution_without_one(world):
    institution = world.wuchang.institutions.create(name="武昌区第二医院")
    response = issue(world.client_for(world.wuhan_user), institution, username="wc2_master")
    assert response.status_code == 200
    master = User.objects.get(username="wc2_master")
    assert master.is_master
    assert set(get_perms(master, institution)) == {
        "view_institution",
        "change_institution",
        "manage_records",
        "manage_staff",
    }


@pytest.mark.parametrize("username", ["wcyy", "WCYY", "WcYy"])
def test_duplicate_username_in_any_case_gets_a_clear_form_error(world, username):
    users_before = User.objects.count()
    response = issue(world.client_for(world.master), world.wuchang_hospital, username=username)
    assert response.status_code == 200
    assert response.context["form"].errors["username"] == [zh("This username is taken; choose another.")]
    assert User.objects.count() == users_before


def test_duplicate_username_in_another_case_is_refused_by_the_action_too(world):
    with pytest.raises(ValidationError):
        actions.issue_account(world.wuchang_hospital, username="HSZ", acting_user=world.master)
    assert User.objects.filter(username__iexact="hsz").count() == 1


# --- disabling, enabling, resetting ----------------------------------------------------------------------------


def test_disabling_an_account_ends_its_existing_sessions_at_once(world):
    staff_client = logged_in_client(world.staff)
    institution_url = world.wuchang_hospital.get_absolute_url()
    assert staff_client.get(institution_url).status_code == 200

    response = world.client_for(world.master).post(reverse("accounts:disable", args=[world.staff.public_id]))
    assert response.status_code == 302
    world.staff.refresh_from_db()
    assert not world.staff.is_active

    response = staff_client.get(institution_url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert not log_in(Client(), "wcyy_staff", PASSWORD)

    [event] = audit_events(AuditEvent.Kind.ACCOUNT_DISABLE, world.staff)
    assert event.actor == world.master
    assert event.actor_username == "wcyy"
    assert event.changes == {"is_active": [True, False]}
    assert event.region == world.hubei


def test_disable_confirmation_page_changes_nothing(world):
    response = world.client_for(world.wuhan_user).get(reverse("accounts:disable", args=[world.wuchang_user.public_id]))
    assert response.status_code == 200
    world.wuchang_user.refresh_from_db()
    assert world.wuchang_user.is_active
    assert not audit_events(AuditEvent.Kind.ACCOUNT_DISABLE)


def test_enabling_a_disabled_account_lets_it_log_in_again(world):
    superior = world.client_for(world.wuhan_user)
    superior.post(reverse("accounts:disable", args=[world.wuchang_user.public_id]))
    assert not log_in(Client(), "wuchang", PASSWORD)

    response = superior.post(reverse("accounts:enable", args=[world.wuchang_user.public_id]))
    assert response.status_code == 302
    assert response["Location"] == world.wuchang_user.get_absolute_url()
    world.wuchang_user.refresh_from_db()
    assert world.wuchang_user.is_active
    client = logged_in_client(world.wuchang_user)
    assert client.get(world.wuchang.get_absolute_url()).status_code == 200

    [event] = audit_events(AuditEvent.Kind.ACCOUNT_ENABLE, world.wuchang_user)
    assert event.actor == world.wuhan_user
    assert event.changes == {"is_active": [False, True]}


def test_resetting_a_password_ends_sessions_and_gives_a_new_one_time_password(world):
    staff_client = logged_in_client(world.staff)
    assert staff_client.get(world.wuchang_hospital.get_absolute_url()).status_code == 200

    response = world.client_for(world.master).post(reverse("accounts:reset_password", args=[world.staff.public_id]))
    assert response.status_code == 200
    new_password = response.context["password"]
    assert f'id="slip-password">{new_password}<' in response.content.decode()

    response = staff_client.get(world.wuchang_hospital.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))

    world.staff.refresh_from_db()
    assert world.staff.must_change_password
    assert not world.staff.check_password(PASSWORD)
    assert not log_in(Client(), "wcyy_staff", PASSWORD)
    client = logged_in_client(world.staff, new_password)
    assert client.get(reverse("home"))["Location"] == reverse("accounts:password_change")

    [event] = audit_events(AuditEvent.Kind.ACCOUNT_RESET_PASSWORD, world.staff)
    assert event.actor == world.master
    assert event.target_label == str(world.staff)
    assert new_password not in json.dumps(event.changes)


def test_reset_password_confirmation_page_changes_nothing(world):
    response = world.client_for(world.master).get(reverse("accounts:reset_password", args=[world.staff.public_id]))
    assert response.status_code == 200
    world.staff.refresh_from_db()
    assert world.staff.check_password(PASSWORD)
    assert not world.staff.must_change_password


@pytest.mark.parametrize(
    "actor,target",
    [
        ("wuhan_user", "wuhan_user"),
        ("wuhan_user", "region_user"),
        ("wuchang_user", "wuhan_user"),
        ("wuchang_user", "hongshan_user"),
        ("master", "master"),
        ("master", "wuchang_user"),
        ("staff", "staff"),
        ("staff", "master"),
        ("region_user", "hunan_user"),
    ],
)
@pytest.mark.parametrize("action", ["disable", "reset_password"])
def test_nobody_can_disable_or_reset_himself_his_superior_or_a_sibling(world, actor, target, action):
    actor_user, target_user = getattr(world, actor), getattr(world, target)
    response = world.client_for(actor_user).post(reverse(f"accounts:{action}", args=[target_user.public_id]))
    assert response.status_code == 404
    target_user.refresh_from_db()
    assert target_user.is_active
    assert target_user.check_password(PASSWORD)
    assert not target_user.must_change_password
    account_kinds = [AuditEvent.Kind.ACCOUNT_DISABLE, AuditEvent.Kind.ACCOUNT_RESET_PASSWORD]
    assert not AuditEvent.objects.filter(target_id=str(target_user.public_id), kind__in=account_kinds).exists()


def test_nobody_can_enable_his_own_disabled_superior(world):
    User.objects.filter(pk=world.wuhan_user.pk).update(is_active=False)
    response = world.client_for(world.wuchang_user).post(reverse("accounts:enable", args=[world.wuhan_user.public_id]))
    assert response.status_code == 404
    world.wuhan_user.refresh_from_db()
    assert not world.wuhan_user.is_active


def test_actions_refuse_acting_on_oneself_even_when_called_directly(world):
    with pytest.raises(PermissionDenied):
        actions.set_account_active(world.wuhan_user, False, acting_user=world.wuhan_user)
    with pytest.raises(PermissionDenied):
        actions.reset_password(world.master, acting_user=world.master)
    world.wuhan_user.refresh_from_db()
    assert world.wuhan_user.is_active


# --- the audit trail -------------------------------------------------------------------------------------------


def test_issuing_an_account_is_audited_with_actor_target_and_grants(world):
    response = issue(
        world.client_for(world.wuhan_user),
        world.wuchang,
        username="audited",
        permissions=["manage_office"],
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 200
    account = User.objects.get(username="audited")
    [event] = audit_events(AuditEvent.Kind.ACCOUNT_ISSUE, account)
    assert event.actor == world.wuhan_user
    assert event.actor_username == "wuhan"
    assert event.target_label == "audited"
    assert event.region == world.hubei
    assert event.changes == {"node": "武昌区", "permissions": ["manage_office", "view_office"], "master": False}


def test_issuing_a_master_account_is_audited_as_master(world):
    institution = world.wuchang.institutions.create(name="武昌区第三医院")
    account, _password = actions.issue_account(institution, username="wc3", acting_user=world.wuchang_user)
    [event] = audit_events(AuditEvent.Kind.ACCOUNT_ISSUE, account)
    assert event.actor == world.wuchang_user
    assert event.changes["master"] is True
    assert event.changes["node"] == "武昌区第三医院"
    assert set(event.changes["permissions"]) == {
        "view_institution",
        "change_institution",
        "manage_records",
        "manage_staff",
    }


def test_enabling_an_active_account_changes_nothing_and_audits_nothing(world):
    actions.set_account_active(world.staff, True, acting_user=world.master)
    assert not audit_events(AuditEvent.Kind.ACCOUNT_ENABLE)


def _audit_event(world) -> AuditEvent:
    return AuditEvent.objects.create(kind=AuditEvent.Kind.LOGIN, actor=world.staff, actor_username="wcyy_staff")


def _raises_from_trigger(operation):
    """Run ``operation`` in a savepoint; return the exception the database raised.

    pgtrigger's Protect trigger does ``RAISE EXCEPTION`` (SQLSTATE P0001), which psycopg and Django surface as
    ``django.db.utils.ProgrammingError`` (not InternalError, and pgtrigger has no ProtectionError of its own).
    """
    with pytest.raises(Exception) as caught:
        with transaction.atomic():
            operation()
    return caught.value


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(lambda e: AuditEvent.objects.filter(pk=e.pk).update(actor_username="someone"), id="update"),
        pytest.param(lambda e: (setattr(e, "changes", {"forged": True}), e.save()), id="save"),
        pytest.param(lambda e: AuditEvent.objects.filter(pk=e.pk).delete(), id="queryset-delete"),
        pytest.param(lambda e: e.delete(), id="delete"),
    ],
)
def test_audit_events_cannot_be_updated_or_deleted(world, operation):
    event = _audit_event(world)
    error = _raises_from_trigger(lambda: operation(event))
    assert isinstance(error, ProgrammingError), repr(error)
    assert "Cannot update or delete rows" in str(error)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor_username == "wcyy_staff"
    assert stored.changes == {}


def test_audit_events_cannot_be_changed_with_raw_sql_either(world):
    event = _audit_event(world)

    def raw_update():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE accounts_auditevent SET actor_username = 'x' WHERE id = %s", [event.pk])

    assert isinstance(_raises_from_trigger(raw_update), ProgrammingError)
    assert AuditEvent.objects.get(pk=event.pk).actor_username == "wcyy_staff"


def test_a_login_through_the_form_is_audited(world):
    client = Client(REMOTE_ADDR="10.0.0.7")
    response = client.post(reverse("accounts:login"), {"username": "wcyy", "password": PASSWORD})
    assert response.status_code == 302
    [event] = audit_events(AuditEvent.Kind.LOGIN, world.master)
    assert event.actor == world.master
    assert event.actor_username == "wcyy"
    assert event.ip_address == "10.0.0.7"
    world.master.refresh_from_db()
    assert world.master.last_login is not None


@pytest.mark.parametrize("username", ["wcyy", "nobody_here"])
def test_a_failed_login_is_audited_with_the_username_typed(world, username):
    response = Client(REMOTE_ADDR="10.0.0.8").post(
        reverse("accounts:login"), {"username": username, "password": "Wrong-Password-123"}
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    [event] = AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGIN_FAILED)
    assert event.actor is None
    assert event.actor_username == username
    assert event.ip_address == "10.0.0.8"
    assert "Wrong-Password-123" not in json.dumps(event.changes)
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGIN).exists()


def test_a_login_of_a_disabled_account_fails_and_is_audited(world):
    User.objects.filter(pk=world.staff.pk).update(is_active=False)
    response = Client().post(reverse("accounts:login"), {"username": "wcyy_staff", "password": PASSWORD})
    assert response.status_code == 200
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGIN).exists()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGIN_FAILED, actor_username="wcyy_staff").exists()


def test_a_logout_is_audited(world):
    client = logged_in_client(world.master)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    [event] = audit_events(AuditEvent.Kind.LOGOUT, world.master)
    assert event.actor == world.master


def test_re_enabling_an_account_does_not_revive_the_sessions_ended_by_disabling_it(world):
    staff_client = logged_in_client(world.staff)
    assert staff_client.get(world.wuchang_hospital.get_absolute_url()).status_code == 200
    master_client = world.client_for(world.master)
    master_client.post(reverse("accounts:disable", args=[world.staff.public_id]))
    master_client.post(reverse("accounts:enable", args=[world.staff.public_id]))
    world.staff.refresh_from_db()
    assert world.staff.is_active

    response = staff_client.get(world.wuchang_hospital.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
