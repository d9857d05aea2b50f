"""Password rules beyond Django's own: a minimum length with our own message, and composition for office accounts."""

import string

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, ngettext


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's rule with a message from our catalogue (Django 5.2 changed its msgid; zh_Hans lacks the new one)."""

    def get_error_message(self):
        return ngettext(
            "This password is too short: it needs at least %(min_length)d character.",
            "This password is too short: it needs at least %(min_length)d characters.",
            self.min_length,
        ) % {"min_length": self.min_length}

    def get_help_text(self):
        return ngettext(
            "At least %(min_length)d character.",
            "At least %(min_length)d characters.",
            self.min_length,
        ) % {"min_length": self.min_length}


CHARACTER_CLASSES = (
    ("lower", lambda c: c in string.ascii_lowercase),
    ("upper", lambda c: c in string.ascii_uppercase),
    ("digit", lambda c: c in string.digits),
    ("symbol", lambda c: not c.isalnum() or not c.isascii()),
)


def character_classes(password: str) -> set[str]:
    """Which of lower-case letters, capitals, digits and other characters ``password`` uses."""
    return {name for name, test in CHARACTER_CLASSES if any(test(c) for c in password)}


class CompositionValidator:
    """At least ``min_classes`` of the 4 character classes, for the account kinds in PASSWORD_COMPOSITION_FOR.

    Without a user (e.g. a password typed before the account exists) the rule applies: stricter is safer.
    """

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def applies_to(self, user) -> bool:
        kinds = getattr(settings, "PASSWORD_COMPOSITION_FOR", ())
        return user is None or getattr(user, "account_kind", None) in kinds

    def validate(self, password, user=None):
        if self.applies_to(user) and len(character_classes(password)) < self.min_classes:
            raise ValidationError(
                gettext(
                    "This password must mix at least %(min_classes)d of: lower-case letters, capital letters, "
                    "digits and symbols."
                ),
                code="password_too_simple",
                params={"min_classes": self.min_classes},
            )

    def get_help_text(self):
        return gettext(
            "Office accounts: at least %(min_classes)d of lower-case letters, capital letters, digits and symbols."
        ) % {"min_classes": self.min_classes}
