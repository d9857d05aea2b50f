"""Two-factor authentication: required for region-office and staff accounts and the admin site, optional for
others; setting it up with a QR code, recovery codes, the verify step, and a superior resetting a lost device."""

import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.models import AuditEvent, User, UserSession
from tests.auth_helpers import authenticator_for, client_logged_in, code_for, form_login
from tests.world import PASSWORD

SETUP = reverse("accounts:two_factor_setup")
VERIFY = reverse("accounts:two_factor_verify")
MANAGE = reverse("accounts:two_factor")


@pytest.fixture(autouse=True)
def no_device_throttling(settings):
    # django-otp makes each device wait 1, 2, 4... seconds after a failure; these tests do not wait.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def pending_key(client) -> str:
    return client.session[two_factor.PENDING_KEY]


def set_up_authenticator(client) -> list[str]:
    """Open the setup page, confirm with the app's current code; return the recovery codes shown."""
    assert client.get(SETUP).status_code == 200
    response = client.post(SETUP, {"token": code_for(pending_key(client))})
    assert response.status_code == 200
    assert response.templates[0].name == "accounts/recovery_codes.html"
    return response.context["codes"]


def events(kind, user=None):
    rows = AuditEvent.objects.filter(kind=kind)
    if user is not None:
        rows = rows.filter(target_id=str(user.public_id))
    return list(rows)


# --- who must use it ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who,required",
    [("region_user", True), ("hunan_user", True), ("wuhan_user", False), ("wuchang_user", False), ("master", False)],
)
def test_region_office_accounts_must_use_two_factor_and_others_may(world, who, required):
    assert two_factor.required_by_role(getattr(world, who)) is required


def test_staff_and_superusers_must_use_two_factor(world):
    world.wuhan_user.is_staff = True
    assert two_factor.required_by_role(world.wuhan_user)
    root = User.objects.create_superuser("root", password="Root-Password-2026")
    assert two_factor.required_by_role(root)


def test_a_region_office_account_reaches_only_the_setup_page_after_its_password(world):
    client = client_logged_in("hubei", PASSWORD)
    for url in (reverse("home"), world.hubei_office.get_absolute_url(), reverse("accounts:list"), "/admin/", MANAGE):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(SETUP + "?next="), url
    assert client.get(SETUP).status_code == 200


def test_the_setup_page_shows_a_qr_code_as_inline_svg_and_the_key_as_text_and_stores_nothing(world):
    client = client_logged_in("hubei", PASSWORD)
    response = client.get(SETUP)
    html = response.content.decode()
    key = pending_key(client)
    assert re.search(r'<div class="qr" id="otp-qr"><svg [^>]*>', html)
    assert "<script" not in html and "style=" not in html
    device = TOTPDevice(key=key, user=world.region_user)
    assert f'id="otp-secret">{two_factor.secret_base32(device)}<' in html
    assert "otpauth://totp/hbwsrc%3Ahubei?secret=" in html
    assert not TOTPDevice.objects.filter(user=world.region_user).exists()
    # Reloading keeps the same secret: the app scanned a moment ago still works.
    client.get(SETUP)
    assert pending_key(client) == key


def test_confirming_with_the_apps_code_turns_it_on_and_shows_ten_recovery_codes_once(world):
    client = client_logged_in("hubei", PASSWORD)
    codes = set_up_authenticator(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert TOTPDevice.objects.get(user=world.region_user).confirmed
    assert StaticToken.objects.filter(device__user=world.region_user).count() == 10
    [event] = events(AuditEvent.Kind.TWO_FACTOR_ENABLE, world.region_user)
    assert event.actor == world.region_user
    assert client.get(reverse("home")).status_code == 302
    assert client.get(world.hubei_office.get_absolute_url()).status_code == 200
    # Shown once: the management page shows how many are left, never the codes.
    page = client.get(MANAGE).content.decode()
    assert all(code not in page for code in codes)
    assert client.get(SETUP)["Location"] == MANAGE


def test_a_wrong_code_at_setup_turns_nothing_on_and_is_audited(world):
    client = client_logged_in("hubei", PASSWORD)
    client.get(SETUP)
    wrong = code_for(pending_key(client), steps_ahead=5)
    response = client.post(SETUP, {"token": wrong})
    assert response.status_code == 200
    assert response.context["form"].errors["token"]
    assert not TOTPDevice.objects.filter(user=world.region_user).exists()
    assert events(AuditEvent.Kind.TWO_FACTOR_FAILED, world.region_user)
    assert client.get(reverse("home"))["Location"].startswith(SETUP)


def test_the_next_login_asks_for_a_code_and_a_valid_one_lets_in_with_a_new_session_id(world):
    device = authenticator_for(world.region_user)
    client = client_logged_in("hubei", PASSWORD)
    response = client.get(world.hubei_office.get_absolute_url())
    assert response["Location"].startswith(VERIFY)
    key_before = client.cookies["sessionid"].value
    response = client.post(VERIFY, {"token": code_for(device), "next": world.hubei_office.get_absolute_url()})
    assert response.status_code == 302
    assert response["Location"] == world.hubei_office.get_absolute_url()
    assert client.cookies["sessionid"].value != key_before
    assert client.get(world.hubei_office.get_absolute_url()).status_code == 200
    assert UserSession.objects.filter(user=world.region_user).count() == 1


def test_a_wrong_code_is_refused_and_audited(world):
    authenticator_for(world.region_user)
    client = client_logged_in("hubei", PASSWORD)
    response = client.post(VERIFY, {"token": "000000"})
    assert response.status_code == 200
    assert response.context["form"].errors["token"]
    assert client.get(reverse("home"))["Location"].startswith(VERIFY)
    assert len(events(AuditEvent.Kind.TWO_FACTOR_FAILED, world.region_user)) == 1


def test_a_code_cannot_be_used_twice(world):
    device = authenticator_for(world.region_user)
    code = code_for(device)
    first = client_logged_in("hubei", PASSWORD)
    assert first.post(VERIFY, {"token": code}).status_code == 302
    second = client_logged_in("hubei", PASSWORD)
    assert second.post(VERIFY, {"token": code}).status_code == 200
    assert second.get(reverse("home"))["Location"].startswith(VERIFY)


def test_an_offsite_next_is_ignored(world):
    device = authenticator_for(world.region_user)
    client = client_logged_in("hubei", PASSWORD)
    response = client.post(VERIFY, {"token": code_for(device), "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_a_recovery_code_works_once_instead_of_the_app(world):
    client = client_logged_in("hubei", PASSWORD)
    codes = set_up_authenticator(client)
    client.post(reverse("accounts:logout"))

    client = client_logged_in("hubei", PASSWORD)
    response = client.post(VERIFY, {"token": codes[0].upper()})
    assert response.status_code == 302
    assert client.get(world.hubei_office.get_absolute_url()).status_code == 200
    assert two_factor.recovery_codes_left(world.region_user) == 9

    again = client_logged_in("hubei", PASSWORD)
    assert again.post(VERIFY, {"token": codes[0]}).status_code == 200
    assert again.get(reverse("home"))["Location"].startswith(VERIFY)


def test_new_recovery_codes_replace_the_old_ones(world):
    client = client_logged_in("hubei", PASSWORD)
    old = set_up_authenticator(client)
    response = client.post(reverse("accounts:recovery_codes"))
    new = response.context["codes"]
    assert not set(old) & set(new)
    assert set(StaticToken.objects.filter(device__user=world.region_user).values_list("token", flat=True)) == set(new)
    assert events(AuditEvent.Kind.RECOVERY_CODES, world.region_user)


def test_too_many_codes_in_a_row_get_429(world, settings):
    settings.TWO_FACTOR_RATE_LIMIT = (3, 300)
    authenticator_for(world.region_user)
    client = client_logged_in("hubei", PASSWORD, REMOTE_ADDR="10.9.9.9")
    statuses = [client.post(VERIFY, {"token": "123456"}).status_code for _attempt in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_the_admin_site_requires_the_second_factor(world):
    root = User.objects.create_superuser("root", password="Root-Password-2026")
    client = Client()
    form_login(client, "root", "Root-Password-2026")
    response = client.get("/admin/")
    assert response["Location"].startswith(SETUP)
    device = authenticator_for(root)
    assert client.get("/admin/")["Location"].startswith(VERIFY)
    client.post(VERIFY, {"token": code_for(device)})
    assert client.get("/admin/").status_code == 200


# --- optional for the others -------------------------------------------------------------------------------------


def test_an_institution_account_logs_in_without_a_code_until_it_turns_two_factor_on(world):
    client = client_logged_in("wcyy", PASSWORD)
    assert client.get(world.wuchang_hospital.get_absolute_url()).status_code == 200
    set_up_authenticator(client)
    client.post(reverse("accounts:logout"))

    client = client_logged_in("wcyy", PASSWORD)
    assert client.get(world.wuchang_hospital.get_absolute_url())["Location"].startswith(VERIFY)


def test_an_account_that_may_go_without_turns_it_off_and_a_region_office_account_cannot(world):
    client = client_logged_in("wcyy", PASSWORD)
    set_up_authenticator(client)
    response = client.post(reverse("accounts:two_factor_disable"))
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=world.master).exists()
    assert not StaticDevice.objects.filter(user=world.master).exists()
    assert events(AuditEvent.Kind.TWO_FACTOR_DISABLE, world.master)

    region = client_logged_in("hubei", PASSWORD)
    set_up_authenticator(region)
    assert region.post(reverse("accounts:two_factor_disable")).status_code == 403
    assert TOTPDevice.objects.filter(user=world.region_user).exists()


# --- a lost device -----------------------------------------------------------------------------------------------


def test_a_superior_resets_a_lost_device_which_ends_the_holders_sessions_and_is_audited(world):
    holder = client_logged_in("wuchang", PASSWORD)
    set_up_authenticator(holder)
    superior = world.client_for(world.wuhan_user)
    page = superior.get(world.wuchang_user.get_absolute_url()).content.decode()
    assert reverse("accounts:reset_two_factor", args=[world.wuchang_user.public_id]) in page

    url = reverse("accounts:reset_two_factor", args=[world.wuchang_user.public_id])
    assert superior.get(url).status_code == 200  # the confirmation page
    assert TOTPDevice.objects.filter(user=world.wuchang_user).exists()
    response = superior.post(url)
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=world.wuchang_user).exists()
    assert not StaticDevice.objects.filter(user=world.wuchang_user).exists()
    assert holder.get(world.wuchang.get_absolute_url())["Location"].startswith(reverse("accounts:login"))
    [event] = events(AuditEvent.Kind.TWO_FACTOR_RESET, world.wuchang_user)
    assert event.actor == world.wuhan_user
    assert event.changes["devices"] == 2


@pytest.mark.parametrize(
    "actor,target",
    [
        ("wuchang_user", "wuhan_user"),
        ("hongshan_user", "wuchang_user"),
        ("master", "wuchang_user"),
        ("region_user", "hunan_user"),
        ("wuhan_user", "wuhan_user"),
    ],
)
def test_nobody_resets_the_device_of_himself_a_superior_a_sibling_or_another_region(world, actor, target):
    target_user = getattr(world, target)
    authenticator_for(target_user)
    response = world.client_for(getattr(world, actor)).post(
        reverse("accounts:reset_two_factor", args=[target_user.public_id])
    )
    assert response.status_code == 404
    assert TOTPDevice.objects.filter(user=target_user, name="authenticator").exists()
    assert not events(AuditEvent.Kind.TWO_FACTOR_RESET)


def test_the_system_administrator_resets_a_region_office_account_from_the_server_audited(world):
    authenticator_for(world.region_user)
    call_command("reset_two_factor", "hubei", reason="工单 2026-001")
    assert not TOTPDevice.objects.filter(user=world.region_user).exists()
    [event] = events(AuditEvent.Kind.TWO_FACTOR_RESET, world.region_user)
    assert event.actor is None and event.actor_username == "manage.py reset_two_factor"
    assert event.changes == {"devices": 1, "reason": "工单 2026-001"}


# --- the device read with the session ------------------------------------------------------------------------------


def _verified_with(client, token):
    response = client.post(VERIFY, {"token": token})
    assert response.status_code == 302
    return client


def _fields(device) -> list:
    return [getattr(device, field.attname) for field in type(device)._meta.concrete_fields]


def test_a_verified_sessions_page_reads_its_device_with_the_session_as_django_otp_would(world):
    device = authenticator_for(world.region_user)
    client = _verified_with(client_logged_in("hubei", PASSWORD), code_for(device))
    url = world.hubei_office.get_absolute_url()
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)

    user = response.wsgi_request.user
    assert response.status_code == 200 and user.is_verified()
    reads = [query["sql"] for query in queries.captured_queries if "otp_totp_totpdevice" in query["sql"]]
    assert len(reads) == 1 and "django_session" in reads[0]
    assert type(user.otp_device) is TOTPDevice
    assert _fields(user.otp_device) == _fields(TOTPDevice.objects.get(pk=device.pk))


def test_a_session_passed_with_a_recovery_code_reads_that_device_too(world):
    client = client_logged_in("hubei", PASSWORD)
    codes = set_up_authenticator(client)
    client.post(reverse("accounts:logout"))
    client = _verified_with(client_logged_in("hubei", PASSWORD), codes[0])

    user = client.get(world.hubei_office.get_absolute_url()).wsgi_request.user
    assert type(user.otp_device) is StaticDevice
    assert _fields(user.otp_device) == _fields(StaticDevice.objects.get(user=world.region_user))


def test_a_device_unconfirmed_or_gone_after_login_no_longer_counts(world):
    device = authenticator_for(world.region_user)
    client = _verified_with(client_logged_in("hubei", PASSWORD), code_for(device))
    url = world.hubei_office.get_absolute_url()
    assert client.get(url).status_code == 200

    # No confirmed authenticator left: the account is sent to set one up again.
    TOTPDevice.objects.filter(pk=device.pk).update(confirmed=False)  # no signal: as SQL run by hand
    assert client.get(url)["Location"].startswith(SETUP)
    assert DEVICE_ID_SESSION_KEY not in client.session

    TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
    client = _verified_with(client_logged_in("hubei", PASSWORD), code_for(device, steps_ahead=1))
    assert client.get(url).status_code == 200
    TOTPDevice.objects.filter(pk=device.pk).delete()
    assert client.get(url)["Location"].startswith(SETUP)
