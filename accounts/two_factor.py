"""Two-factor authentication with django-otp: a TOTP authenticator app, and one-use recovery codes.

Who must use it: region-office accounts (their office has no parent) and staff accounts (the admin site, the
region's auditors). Anyone else may set it up; once set up, it is asked at every login of that account.
Whether a session must pass the second factor is decided at login (``SESSION_FLAG``), so the check costs no
query per request; the role rule is checked on every request as well, so a role given later still applies.
"""

import functools
import time
from base64 import b32encode

import segno
from django.conf import settings
from django.db import connections, router, transaction
from django_otp import devices_for_user, user_has_device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

SESSION_FLAG = "two_factor_required"
TOTP_NAME = "authenticator"
RECOVERY_NAME = "recovery codes"
PENDING_KEY = "two_factor_pending_key"


DEVICE_MODELS = {model.model_label(): model for model in (TOTPDevice, StaticDevice)}


def required_by_role(user) -> bool:
    if user.is_staff or user.is_superuser:
        return True
    return bool(user.office_id) and user.office.parent_id is None


def required_for(user) -> bool:
    """Asked at login: the role demands it, or the account holder has set it up."""
    return required_by_role(user) or user_has_device(user, confirmed=True)


def has_authenticator(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_authenticator(request) -> TOTPDevice:
    """The authenticator being set up, not saved: its new secret waits in the session until a first code
    confirms it, so showing the setup page changes nothing stored."""
    key = request.session.get(PENDING_KEY)
    if not key:
        key = request.session[PENDING_KEY] = default_key()
    return TOTPDevice(user=request.user, name=TOTP_NAME, key=key, confirmed=False)


def confirm_pending(request, token: str) -> TOTPDevice | None:
    """Save the pending authenticator when ``token`` is its current code (one step of clock drift allowed)."""
    device = pending_authenticator(request)
    token = normalise_token(token)
    if not (len(token) == device.digits and token.isascii() and token.isdigit()):
        return None
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not totp.verify(int(token), tolerance=device.tolerance):
        return None
    device.last_t, device.drift, device.confirmed = totp.t(), totp.drift, True
    device.save()
    del request.session[PENDING_KEY]
    return device


def qr_svg(text: str) -> str:
    """``text`` as a QR code in an inline SVG element (no script, no style attribute: the CSP allows it)."""
    return segno.make(text, error="m").svg_inline(scale=5, title="otpauth")


def secret_base32(device: TOTPDevice) -> str:
    """The secret as typed into an app by hand: the otpauth URI's ``secret`` in groups of four."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def normalise_token(token: str) -> str:
    return "".join(token.split()).replace("-", "").lower()


def verify(user, token: str):
    """The confirmed device ``token`` belongs to, or None. Six digits go to the app, anything else to the codes.

    Each device throttles itself after failures (django-otp doubles the wait each time).
    """
    token = normalise_token(token)
    if not token or len(token) > 16:
        return None
    wanted = TOTPDevice if (len(token) == 6 and token.isascii() and token.isdigit()) else StaticDevice
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if isinstance(device, wanted) and device.verify_token(token):
                return device
    return None


@transaction.atomic
def new_recovery_codes(user) -> list[str]:
    """Replace the account's recovery codes with OTP_RECOVERY_CODES new ones and return them (shown once)."""
    device, _created = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _n in range(getattr(settings, "OTP_RECOVERY_CODES", 10))]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def delete_devices(user) -> int:
    """Remove the account's authenticators and recovery codes; return how many devices there were."""
    removed = 0
    for model in (TOTPDevice, StaticDevice):
        removed += model.objects.filter(user=user).delete()[1].get(model._meta.label, 0)
    return removed


@functools.cache
def device_sql(using: str, user: str) -> str:
    """(persistent id, the row as JSON) of every second-factor device of the account whose id is the SQL expression
    ``user``. The session's query reads them (accounts.session_store): django-otp read the device a session passed
    the second factor with on every request, an ORM query (accounts.middleware.OTPMiddleware)."""
    quote = connections[using].ops.quote_name
    parts = []
    for label, model in DEVICE_MODELS.items():
        meta = model._meta
        parts.append(
            f"SELECT '{label}/' || d.{quote(meta.pk.column)}, to_jsonb(d) FROM {quote(meta.db_table)} d "
            f"WHERE d.{quote(meta.get_field('user').column)} = {user}"
        )
    return " UNION ALL ".join(parts)


def keep_devices(account, rows) -> None:
    """Keep on ``account`` its devices read with the session: (persistent id, JSON row) pairs."""
    account._devices_read = dict(rows)


def device_read_with_session(user, persistent_id: str):
    """(True, the device ``persistent_id`` names or None) when the session's query read ``user``'s devices; (False,
    None) when it did not, and they are to be read as django-otp reads them."""
    rows = getattr(user, "_devices_read", None)
    if rows is None:
        return False, None
    row = rows.get(persistent_id)
    if row is None:
        return True, None
    model = DEVICE_MODELS[persistent_id.partition("/")[0]]
    fields = model._meta.concrete_fields
    values = [field.to_python(row[field.column]) for field in fields]
    return True, model.from_db(router.db_for_read(model), [field.attname for field in fields], values)
