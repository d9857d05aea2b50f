"""Validation of personal and organisation identifiers (domain.md section 6).

Forms and imports call ``normalize_identifier`` first and validate the result. The validators do NOT
normalize: they check the canonical stored form, so they reject full-width digits, inner spaces and
(except for the resident ID's final lowercase x) lowercase letters given to them raw.

Every validator raises ``django.core.exceptions.ValidationError`` with a ``code`` naming the failed rule.

Why python-stdnum is only used for the check-character arithmetic:

- ``stdnum.cn.ric.validate`` looks the address code up in its table of counties and requires the county
  to have existed in the holder's *birth* year. The address code records where the number was first
  issued, often decades after birth, and stays valid for life after the county is abolished. stdnum
  therefore rejects the standard's own example 440524188001010014 (stdnum dates 440524, 潮阳县, to
  1983-1993) and, for instance, a person born in 1960 who first registered in 潮阳县 in 1985
  (440524196001010014). We only check the 2-digit province prefix.
- ``stdnum.cn.uscc.validate`` requires the first 8 characters to be digits, so it rejects every code
  whose registration authority is A, N or Y, which GB 32100-2015 allows.
"""

import datetime
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc

# Document type codes; the model layer defines TextChoices with the same values.
RESIDENT = "resident"
TEMPORARY = "temporary"
PASSPORT = "passport"
HK_MACAO_TAIWAN = "hk_macao_taiwan"
MILITARY = "military"
RESIDENT_ID_TYPES = (RESIDENT, TEMPORARY)

# GB/T 2260 provinces, plus 81/82/83 used on residence permits for Hong Kong, Macao and Taiwan residents.
PROVINCE_CODES = frozenset(
    [str(n) for n in range(11, 16)]
    + [str(n) for n in range(21, 24)]
    + [str(n) for n in range(31, 38)]
    + [str(n) for n in range(41, 47)]
    + [str(n) for n in range(50, 55)]
    + [str(n) for n in range(61, 66)]
    + ["71", "81", "82", "83"]
)

# Not 1900: the standard's own example 440524188001010014 was born in 1880. This only catches typos.
EARLIEST_BIRTH_DATE = datetime.date(1800, 1, 1)

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 0-9 and A-Z without I, O, Z, S, V
USCC_AUTHORITIES = "123456789ANY"

_INNER_SPACES = {ord(" "): None, ord("\u3000"): None}
_FULL_WIDTH_TO_ASCII = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}

# [0-9] never matches full-width or other Unicode digits; re.ASCII keeps it so if someone adds \d or \w.
_RESIDENT_ID_RE = re.compile(r"[0-9]{17}[0-9Xx]", re.ASCII)
_FIRST_GENERATION_RE = re.compile(r"[0-9]{15}", re.ASCII)
_DIGITS_17_RE = re.compile(r"[0-9]{17}", re.ASCII)
_LETTERS_DIGITS_RE = re.compile(r"[A-Z0-9]+", re.ASCII)
# CJK Unified Ideographs and Extension A cover the characters used on military and police IDs (南字第…号).
_MILITARY_RE = re.compile(r"[A-Z0-9\u3400-\u4DBF\u4E00-\u9FFF]+", re.ASCII)

_ORGANISATION_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORGANISATION_CODE_VALUES = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")}


def normalize_identifier(value: str) -> str:
    """Return the canonical form of a typed or imported identifier.

    Strips surrounding whitespace, removes inner ASCII and ideographic (U+3000) spaces, converts
    full-width ASCII forms to ASCII and uppercases, so "１１０１０５ １９４９１２３１００２ｘ" becomes
    "11010519491231002X".
    """
    return value.strip().translate(_INNER_SPACES).translate(_FULL_WIDTH_TO_ASCII).upper()


def _today() -> datetime.date:
    return timezone.localdate() if settings.USE_TZ else datetime.date.today()


def _first_bad_position(value: str, allowed: str) -> int | None:
    """1-based position of the first character of value not in allowed, or None."""
    return next((i for i, char in enumerate(value, start=1) if char not in allowed), None)


# Resident identity card number (居民身份证号码, GB 11643-1999)


def resident_id_check_character(first17: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character for the first 17 digits of a resident ID."""
    if not _DIGITS_17_RE.fullmatch(first17):
        raise ValueError(f"expected 17 ASCII digits, got {first17!r}")
    # stdnum's arithmetic is right (it is the lookup of the address code that is wrong); it expects the
    # check character's place to be present.
    return stdnum_ric.calc_check_digit(first17 + "0")


def validate_resident_id(value: str) -> None:
    """Validate an 18-character resident ID number; a final lowercase x is accepted."""
    if len(value) != 18:
        if _FIRST_GENERATION_RE.fullmatch(value):
            raise ValidationError(
                _(
                    "ID number must be 18 characters, got %(length)s. "
                    "15-digit first-generation ID numbers are no longer valid."
                ),
                code="length",
                params={"length": len(value)},
            )
        raise ValidationError(
            _("ID number must be 18 characters, got %(length)s."),
            code="length",
            params={"length": len(value)},
        )
    if not _RESIDENT_ID_RE.fullmatch(value):
        position = _first_bad_position(value[:17], "0123456789") or 18
        raise ValidationError(
            _(
                "Character %(position)s of the ID number (%(char)s) is not allowed: "
                "the first 17 characters must be digits 0-9 and the last a digit or X."
            ),
            code="character",
            params={"position": position, "char": value[position - 1]},
        )
    if value[:2] not in PROVINCE_CODES:
        raise ValidationError(
            _("The ID number starts with %(code)s, which is not a province code."),
            code="region",
            params={"code": value[:2]},
        )
    shown_date = f"{value[6:10]}-{value[10:12]}-{value[12:14]}"
    try:
        birth_date = resident_id_birth_date(value)
    except ValueError:
        raise ValidationError(
            _("The birth date %(date)s in the ID number is not a real date."),
            code="date",
            params={"date": shown_date},
        ) from None
    if birth_date > _today():
        raise ValidationError(
            _("The birth date %(date)s in the ID number is in the future."),
            code="date",
            params={"date": shown_date},
        )
    if birth_date < EARLIEST_BIRTH_DATE:
        raise ValidationError(
            _("The birth date %(date)s in the ID number is before %(earliest)s."),
            code="date",
            params={"date": shown_date, "earliest": EARLIEST_BIRTH_DATE.isoformat()},
        )
    if value[17].upper() != resident_id_check_character(value[:17]):
        # Deliberately does not say what the right character is: that would let anyone "fix" a mistyped
        # number into another valid, but wrong, one.
        raise ValidationError(
            _("The check character (last character) of the ID number is wrong."),
            code="check",
        )


def resident_id_birth_date(value: str) -> datetime.date:
    """Birth date of a valid resident ID number; ValueError if it is not a real date."""
    return datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def resident_id_sex(value: str) -> str:
    """'M' or 'F' for a valid resident ID number (odd 17th digit = male)."""
    return "M" if int(value[16]) % 2 else "F"


# Unified social credit code (统一社会信用代码, GB 32100-2015)


def organisation_code_check_character(first8: str) -> str:
    """Return the GB 11714 check character of an organisation code (USCC characters 9-16)."""
    if len(first8) != 8 or any(char not in _ORGANISATION_CODE_VALUES for char in first8):
        raise ValueError(f"expected 8 characters from 0-9 and A-Z, got {first8!r}")
    total = sum(
        _ORGANISATION_CODE_VALUES[char] * weight
        for char, weight in zip(first8, _ORGANISATION_CODE_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def uscc_check_character(first17: str) -> str:
    """Return the GB 32100 (ISO 7064 MOD 31-3) check character for the first 17 characters of a USCC."""
    if len(first17) != 17 or any(char not in USCC_ALPHABET for char in first17):
        raise ValueError(f"expected 17 characters from {USCC_ALPHABET}, got {first17!r}")
    return stdnum_uscc.calc_check_digit(first17)


def validate_uscc(value: str) -> None:
    """Validate a unified social credit code in canonical (uppercase) form."""
    if len(value) != 18:
        raise ValidationError(
            _("Unified social credit code must be 18 characters, got %(length)s."),
            code="length",
            params={"length": len(value)},
        )
    position = _first_bad_position(value, USCC_ALPHABET)
    if position is not None:
        raise ValidationError(
            _(
                "Character %(position)s of the unified social credit code (%(char)s) is not allowed: "
                "use digits 0-9 and capital letters other than I, O, Z, S and V."
            ),
            code="character",
            params={"position": position, "char": value[position - 1]},
        )
    if value[0] not in USCC_AUTHORITIES:
        raise ValidationError(
            _(
                "The unified social credit code starts with %(char)s, which is not a registration "
                "authority code (1-9, A, N or Y)."
            ),
            code="authority",
            params={"char": value[0]},
        )
    if value[16] != organisation_code_check_character(value[8:16]):
        raise ValidationError(
            _(
                "The organisation code (characters 9 to 17) in the unified social credit code "
                "has a wrong check character."
            ),
            code="organisation_code",
        )
    if value[17] != uscc_check_character(value[:17]):
        raise ValidationError(
            _("The check character (last character) of the unified social credit code is wrong."),
            code="check",
        )


# Other identity documents: format checks only, their numbering is not published.

_OTHER_ID_FORMATS = {
    PASSPORT: (
        _LETTERS_DIGITS_RE,
        5,
        20,
        _("Passport number must be %(min)s to %(max)s characters, got %(length)s."),
        _("Passport number may contain only capital letters A-Z and digits 0-9."),
    ),
    HK_MACAO_TAIWAN: (
        _LETTERS_DIGITS_RE,
        8,
        11,
        _("Mainland travel permit number must be %(min)s to %(max)s characters, got %(length)s."),
        _("Mainland travel permit number may contain only capital letters A-Z and digits 0-9."),
    ),
    MILITARY: (
        _MILITARY_RE,
        4,
        30,
        _("Military or police ID number must be %(min)s to %(max)s characters, got %(length)s."),
        _("Military or police ID number may contain only capital letters, digits and Chinese characters."),
    ),
}


def validate_other_id(id_type: str, value: str) -> None:
    """Format check for passports, mainland travel permits and military or police IDs.

    The resident and temporary ID types are passed on to ``validate_resident_id``.
    """
    if id_type in RESIDENT_ID_TYPES:
        validate_resident_id(value)
        return
    if id_type not in _OTHER_ID_FORMATS:
        raise ValidationError(
            _("Unknown identity document type %(id_type)s."),
            code="id_type",
            params={"id_type": id_type},
        )
    pattern, min_length, max_length, length_message, character_message = _OTHER_ID_FORMATS[id_type]
    if not min_length <= len(value) <= max_length:
        raise ValidationError(
            length_message,
            code="length",
            params={"min": min_length, "max": max_length, "length": len(value)},
        )
    if not pattern.fullmatch(value):
        raise ValidationError(character_message, code="character")


def validate_id_number(id_type: str, value: str) -> None:
    """Validate value as a number of the given identity document type."""
    if id_type in RESIDENT_ID_TYPES:
        validate_resident_id(value)
    else:
        validate_other_id(id_type, value)
