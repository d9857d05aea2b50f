"""Logging in: lockout after repeated failures (per username and per address) and a superior's unlock, the
generic failure message, the real client address behind a proxy, one-time passwords that expire, the password
rules and their rotation, and a new session id at each login."""

import datetime
import re

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from accounts import actions
from accounts.models import AuditEvent, User
from tests.auth_helpers import LOGIN, client_logged_in, form_login
from tests.world import PASSWORD, logged_in, make_account

WRONG = "Wrong-Password-123"


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(message)


def fail(username, ip="10.0.0.1", times=1):
    return [form_login(Client(REMOTE_ADDR=ip), username, WRONG) for _attempt in range(times)]


def error_text(response) -> str:
    return " ".join(response.context["form"].non_field_errors())


# --- lockout -----------------------------------------------------------------------------------------------------


def test_the_fifth_failure_locks_the_username_even_from_other_addresses_and_with_the_right_password(world):
    responses = [form_login(Client(REMOTE_ADDR=f"10.0.0.{n}"), "wcyy", WRONG) for n in range(1, 6)]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    response = form_login(Client(REMOTE_ADDR="10.0.0.99"), "wcyy", PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGIN).exists()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGIN_LOCKED_OUT, actor_username="wcyy").exists()
    # Another account is not affected.
    assert form_login(Client(REMOTE_ADDR="10.0.0.98"), "hsz", PASSWORD).status_code == 302


def test_five_failures_from_one_address_lock_that_address_for_every_username(world):
    for number, username in enumerate(["a1", "b2", "c3", "d4", "e5"]):
        response = form_login(Client(REMOTE_ADDR="10.1.1.1"), username, WRONG)
        assert response.status_code == (429 if number == 4 else 200)
    assert form_login(Client(REMOTE_ADDR="10.1.1.1"), "wcyy", PASSWORD).status_code == 429
    assert form_login(Client(REMOTE_ADDR="10.1.1.2"), "wcyy", PASSWORD).status_code == 302


def test_the_lockout_page_does_not_reveal_whether_the_account_exists(world):
    existing = fail("wcyy", ip="10.2.0.1", times=6)[-1]
    unknown = fail("nobody_here", ip="10.2.0.2", times=6)[-1]
    assert existing.status_code == unknown.status_code == 429
    assert without_csrf_token(existing.content) == without_csrf_token(unknown.content)
    page = existing.content.decode()
    assert 'id="lockout-message"' in page and "wcyy" not in page


def without_csrf_token(content: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content)


def test_the_failure_message_is_the_same_for_a_wrong_password_an_unknown_user_a_disabled_account_and_an_expired_one_time_password(  # noqa: E501
    world,
):
    User.objects.filter(pk=world.staff.pk).update(is_active=False)
    account, password = actions.issue_account(world.wuchang, username="late", acting_user=world.wuhan_user)
    User.objects.filter(pk=account.pk).update(one_time_password_expires_at=timezone.now() - datetime.timedelta(1))
    messages = {
        error_text(form_login(Client(REMOTE_ADDR=f"10.3.0.{n}"), username, typed))
        for n, (username, typed) in enumerate(
            [("wcyy", WRONG), ("nobody_here", WRONG), ("wcyy_staff", PASSWORD), ("late", password)]
        )
    }
    assert len(messages) == 1
    [message] = messages
    assert message


def test_the_lockout_lasts_15_minutes(world):
    fail("wcyy", times=5)
    assert form_login(Client(), "wcyy", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=16))
    assert form_login(Client(), "wcyy", PASSWORD).status_code == 302


def test_a_successful_login_starts_the_count_again(world):
    fail("wcyy", times=4)
    assert form_login(Client(REMOTE_ADDR="10.0.0.1"), "wcyy", PASSWORD).status_code == 302
    responses = fail("wcyy", times=4)
    assert {r.status_code for r in responses} == {200}


def test_a_superior_unlocks_a_locked_account_and_the_unlock_is_audited(world):
    fail("wcyy_staff", times=5)
    master = world.client_for(world.master)
    page = master.get(world.staff.get_absolute_url()).content.decode()
    assert 'id="account-locked"' in page
    url = reverse("accounts:unlock", args=[world.staff.public_id])
    assert url in page
    assert master.get(url).status_code == 200  # confirmation: nothing unlocked yet
    assert form_login(Client(REMOTE_ADDR="10.0.9.9"), "wcyy_staff", PASSWORD).status_code == 429
    response = master.post(url)
    assert response.status_code == 302
    assert form_login(Client(REMOTE_ADDR="10.0.9.8"), "wcyy_staff", PASSWORD).status_code == 302
    [event] = AuditEvent.objects.filter(kind=AuditEvent.Kind.ACCOUNT_UNLOCK)
    assert event.actor == world.master
    assert event.target_id == str(world.staff.public_id)
    assert event.changes["cleared"] >= 1


@pytest.mark.parametrize(
    "actor,target",
    [("staff", "master"), ("wuchang_user", "wuhan_user"), ("hongshan_user", "wuchang_user"), ("master", "master")],
)
def test_nobody_unlocks_himself_a_superior_or_a_sibling(world, actor, target):
    target_user = getattr(world, target)
    client = world.client_for(getattr(world, actor))  # a login clears its own failures: log in first
    fail(target_user.username, times=5)
    response = client.post(reverse("accounts:unlock", args=[target_user.public_id]))
    assert response.status_code == 404
    assert AccessAttempt.objects.filter(username=target_user.username).exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.ACCOUNT_UNLOCK).exists()


# --- the client address behind a proxy ----------------------------------------------------------------------------


def test_behind_one_proxy_the_address_the_proxy_saw_is_locked_and_audited_not_what_the_client_claims(world, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(5):
        Client(REMOTE_ADDR="127.0.0.1").post(
            LOGIN, {"username": f"u{n}", "password": WRONG}, HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 203.0.113.9"
        )
    event = AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGIN_FAILED).first()
    assert event.ip_address == "203.0.113.9"
    # The client rotating its own X-Forwarded-For entry does not escape the lockout ...
    spoofed = Client(REMOTE_ADDR="127.0.0.1").post(
        LOGIN, {"username": "wcyy", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.9"
    )
    assert spoofed.status_code == 429
    # ... and another client behind the same proxy is not locked out.
    other = Client(REMOTE_ADDR="127.0.0.1").post(
        LOGIN, {"username": "wcyy", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="203.0.113.10"
    )
    assert other.status_code == 302


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(world):
    for n in range(5):
        Client(REMOTE_ADDR="10.4.0.1").post(
            LOGIN, {"username": f"u{n}", "password": WRONG}, HTTP_X_FORWARDED_FOR=f"1.2.3.{n}"
        )
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGIN_FAILED).first().ip_address == "10.4.0.1"
    assert form_login(Client(REMOTE_ADDR="10.4.0.1"), "wcyy", PASSWORD).status_code == 429


# --- one-time passwords ------------------------------------------------------------------------------------------


def test_an_issued_one_time_password_is_valid_for_72_hours_and_the_slip_says_until_when(world):
    response = world.client_for(world.wuhan_user).post(
        reverse("accounts:issue_office", args=[world.wuchang.public_id]), {"username": "clerk"}
    )
    account = User.objects.get(username="clerk")
    expected = timezone.now() + datetime.timedelta(hours=72)
    assert abs(account.one_time_password_expires_at - expected) < datetime.timedelta(minutes=1)
    until = timezone.localtime(account.one_time_password_expires_at).strftime("%Y-%m-%d %H:%M")
    assert until in response.content.decode()
    assert form_login(Client(), "clerk", response.context["password"]).status_code == 302


@pytest.mark.parametrize("how", ["issued", "reset"])
def test_an_expired_one_time_password_cannot_log_in(world, how):
    if how == "issued":
        account, password = actions.issue_account(world.wuchang, username="clerk", acting_user=world.wuhan_user)
    else:
        account, password = world.staff, actions.reset_password(world.staff, acting_user=world.master)
    User.objects.filter(pk=account.pk).update(
        one_time_password_expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = form_login(Client(), account.username, password)
    assert response.status_code == 200
    assert error_text(response)
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGIN, actor=account).exists()


def test_changing_the_one_time_password_lifts_the_expiry(world):
    account, password = actions.issue_account(world.wuchang, username="clerk", acting_user=world.wuhan_user)
    client = client_logged_in("clerk", password)
    client.post(
        reverse("accounts:password_change"),
        {"old_password": password, "new_password1": "Lotus-Yellow-Crane-77", "new_password2": "Lotus-Yellow-Crane-77"},
    )
    account.refresh_from_db()
    assert account.one_time_password_expires_at is None
    assert not account.must_change_password
    User.objects.filter(pk=account.pk).update(date_joined=timezone.now() - datetime.timedelta(days=10))
    assert form_login(Client(), "clerk", "Lotus-Yellow-Crane-77").status_code == 302


# --- password rules -----------------------------------------------------------------------------------------------


def change_password(user, new):
    client = logged_in(user)
    return client.post(
        reverse("accounts:password_change"), {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )


def codes(response) -> set[str]:
    return {error.code for error in response.context["form"].errors.as_data().get("new_password2", [])}


@pytest.mark.parametrize("password", ["yellowcranetowers", "YELLOWCRANE-TOWER", "yellowcranetower77"])
def test_office_passwords_must_mix_three_kinds_of_characters(world, password):
    response = change_password(world.wuchang_user, password)
    assert "password_too_simple" in codes(response)
    message = (
        "This password must mix at least %(min_classes)d of: lower-case letters, capital letters, "
        "digits and symbols."
    )
    assert zh(message) % {"min_classes": 3} in response.content.decode()


def test_institution_passwords_need_not_mix_kinds_by_default_but_the_setting_turns_it_on(world, settings):
    assert change_password(world.master, "yellowcranetower77").status_code == 302
    settings.PASSWORD_COMPOSITION_FOR = ("office", "institution")
    response = change_password(world.staff, "yellowcranetower77")
    assert "password_too_simple" in codes(response)


def test_a_mixed_office_password_passes(world):
    assert change_password(world.wuchang_user, "Yellow-Crane-Tower").status_code == 302


@pytest.mark.parametrize(
    "password,code",
    [
        ("Short-Pw-1", "password_too_short"),
        ("Password1234", "password_too_common"),
        ("Wuchang-2026", "password_too_similar"),
    ],
)
def test_length_commonness_and_similarity_to_the_username_are_refused_in_chinese(world, password, code):
    response = change_password(world.wuchang_user, password)
    assert response.status_code == 200
    assert code in codes(response)
    errors = " ".join(response.context["form"].errors["new_password2"])
    assert any("\u4e00" <= character <= "\u9fff" for character in errors), errors


def test_the_minimum_length_message_comes_from_our_catalogue(world):
    response = change_password(world.wuchang_user, "Short-Pw-1")
    with translation.override("zh-hans"):
        message = translation.ngettext(
            "This password is too short: it needs at least %(min_length)d character.",
            "This password is too short: it needs at least %(min_length)d characters.",
            12,
        ) % {"min_length": 12}
    assert message in response.content.decode()
    assert "12" in message and not message.isascii()


def test_an_office_password_older_than_90_days_must_be_changed_first(world):
    User.objects.filter(pk=world.wuchang_user.pk).update(
        password_changed_at=timezone.now() - datetime.timedelta(days=91)
    )
    client = client_logged_in("wuchang", PASSWORD)
    response = client.get(world.wuchang.get_absolute_url())
    assert response["Location"] == reverse("accounts:password_change")
    page = client.get(reverse("accounts:password_change")).content.decode()
    assert 'id="password-expired"' in page
    client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "Yellow-Crane-Tower", "new_password2": "Yellow-Crane-Tower"},
    )
    assert client.get(world.wuchang.get_absolute_url()).status_code == 200


def test_institution_passwords_do_not_expire_by_default_and_the_setting_changes_it(world, settings):
    User.objects.filter(pk=world.master.pk).update(password_changed_at=timezone.now() - datetime.timedelta(days=400))
    client = client_logged_in("wcyy", PASSWORD)
    assert client.get(world.wuchang_hospital.get_absolute_url()).status_code == 200
    settings.PASSWORD_ROTATION_FOR = ("office", "institution")
    assert client.get(world.wuchang_hospital.get_absolute_url())["Location"] == reverse("accounts:password_change")


def test_every_new_password_restarts_the_rotation_clock(world):
    user = make_account("fresh", world.wuchang)
    assert timezone.now() - user.password_changed_at < datetime.timedelta(minutes=1)
    assert not user.password_expired


# --- the session id ---------------------------------------------------------------------------------------------


def test_a_login_gets_a_new_session_id(world):
    client = Client()
    session = client.session
    session["before"] = "anonymous"
    session.save()
    anonymous_key = session.session_key
    form_login(client, "wcyy", PASSWORD)
    assert client.cookies["sessionid"].value != anonymous_key


@pytest.mark.parametrize("length", [151, 300, 5000])
def test_an_overlong_username_is_a_failed_login_not_a_server_error(world, length):
    username = "x" * length
    for _attempt in range(2):  # the first failure creates axes' row, the second updates it
        response = form_login(Client(), username, "wrong")
        assert response.status_code == 200
        assert response.context["form"].errors
    attempt = AccessAttempt.objects.get()
    assert attempt.username == "x" * 150 and attempt.failures_since_start == 2
