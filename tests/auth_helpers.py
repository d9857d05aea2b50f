"""Helpers for the login, session and two-factor tests: logging in through the real forms, and codes."""

import time

from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

LOGIN = reverse("accounts:login")


def form_login(client: Client, username: str, password: str, **extra):
    """POST the login form, as a browser does (django-axes and the session registry watch this path)."""
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def client_logged_in(username: str, password: str, **defaults) -> Client:
    client = Client(**defaults)
    response = form_login(client, username, password)
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def code_for(key_hex_or_device, *, steps_ahead: int = 0) -> str:
    """The 6 digits an authenticator app shows now for this secret (``steps_ahead`` 30-second steps later)."""
    if isinstance(key_hex_or_device, TOTPDevice):
        key = key_hex_or_device.bin_key
    else:
        key = bytes.fromhex(key_hex_or_device)
    totp = TOTP(key, step=30, t0=0, digits=6, drift=steps_ahead)
    totp.time = time.time()
    return f"{totp.token():06d}"


def authenticator_for(user) -> TOTPDevice:
    """A confirmed authenticator for ``user`` that has not accepted any code yet."""
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
