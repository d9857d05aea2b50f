"""Rate limits hold on the pages an outsider could hammer: login (per username and per address), the public
roster verification (per address, the real one behind a proxy), the eligibility lookup (per account) and the
second-factor codes (per account)."""

from django.test import Client
from django.urls import reverse

from tests.auth_helpers import authenticator_for, client_logged_in, form_login
from tests.world import PASSWORD


def test_login_attempts_are_limited_per_username_whatever_the_address(world):
    statuses = [form_login(Client(REMOTE_ADDR=f"10.20.0.{n}"), "wcyy", "wrong").status_code for n in range(8)]
    assert statuses == [200] * 4 + [429] * 4


def test_login_attempts_are_limited_per_address_whatever_the_username(world):
    statuses = [form_login(Client(REMOTE_ADDR="10.21.0.1"), f"user{n}", "wrong").status_code for n in range(8)]
    assert statuses == [200] * 4 + [429] * 4


def test_verification_is_limited_per_address(db, settings):
    settings.VERIFY_RATE_LIMIT = (3, 60)
    url = reverse("reports:verify")
    statuses = [
        Client(REMOTE_ADDR="10.22.0.1").get(url, {"code": "ABCD-EFGH-JKLM-NPQR"}).status_code for _n in range(4)
    ]
    assert statuses[-1] == 429 and 429 not in statuses[:3]
    assert Client(REMOTE_ADDR="10.22.0.2").get(url, {"code": "ABCD-EFGH-JKLM-NPQR"}).status_code != 429


def test_behind_a_proxy_verification_is_limited_per_real_client_not_per_proxy(db, settings):
    settings.VERIFY_RATE_LIMIT = (2, 60)
    settings.TRUSTED_PROXY_COUNT = 1
    url = reverse("reports:verify")

    def verify(client_ip, claimed="1.1.1.1"):
        client = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=f"{claimed}, {client_ip}")
        return client.get(url, {"code": "ABCD-EFGH-JKLM-NPQR"}).status_code

    assert [verify("203.0.113.1", claimed=f"9.9.9.{n}") for n in range(3)][-1] == 429
    assert verify("203.0.113.2") != 429  # another client behind the same proxy


def test_lookups_are_limited_per_account(world, settings):
    settings.LOOKUP_RATE_LIMIT = (2, 60)
    client = world.client_for(world.wuchang_user)
    statuses = [
        client.post(reverse("reports:lookup"), {"id_number": "11010519491231002X"}).status_code for _n in range(3)
    ]
    assert statuses[-1] == 429 and 429 not in statuses[:2]
    other = world.client_for(world.hongshan_user)
    assert other.post(reverse("reports:lookup"), {"id_number": "11010519491231002X"}).status_code != 429


def test_second_factor_codes_are_limited_per_account(world, settings):
    settings.TWO_FACTOR_RATE_LIMIT = (2, 300)
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    authenticator_for(world.master)
    client = client_logged_in("wcyy", PASSWORD)
    client.get(reverse("home"))
    statuses = [client.post(reverse("accounts:two_factor_verify"), {"token": "000000"}).status_code for _n in range(3)]
    assert statuses == [200, 200, 429]
