import datetime
import uuid

import pgtrigger
from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def account_label(full_name: str, username: str) -> str:
    """How pages name an account: its holder's name and its username, or the username alone."""
    return f"{full_name} ({username})" if full_name else username


class User(AbstractUser):
    """An account. Every account except superusers belongs to exactly one node: an office or an institution."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    full_name = models.CharField(_("full name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    office = models.ForeignKey(
        "institutions.Office",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts",
        verbose_name=_("office"),
    )
    institution = models.ForeignKey(
        "institutions.Institution",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts",
        verbose_name=_("institution"),
    )
    is_master = models.BooleanField(
        _("master account"), default=False, help_text=_("The institution's master account (主帐号).")
    )
    must_change_password = models.BooleanField(_("must change password"), default=False)
    issued_by = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("issued by")
    )
    password_changed_at = models.DateTimeField(_("password changed at"), null=True, blank=True)
    one_time_password_expires_at = models.DateTimeField(
        _("one-time password expires at"),
        null=True,
        blank=True,
        help_text=_("An issued or reset password that has not been changed stops working at this time."),
    )

    objects = UserManager()

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["username"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_superuser=True, office__isnull=True, institution__isnull=True)
                | Q(office__isnull=False, institution__isnull=True)
                | Q(office__isnull=True, institution__isnull=False),
                name="user_belongs_to_one_node",
            ),
            models.CheckConstraint(
                condition=Q(is_master=False) | Q(institution__isnull=False), name="user_master_is_institution"
            ),
            models.UniqueConstraint(
                fields=["institution"],
                condition=Q(is_master=True),
                name="user_one_master_per_institution",
                violation_error_message=_("This institution already has a master account."),
            ),
        ]

    def __str__(self):
        return account_label(self.full_name, self.username)

    def get_absolute_url(self):
        return reverse("accounts:detail", args=[self.public_id])

    @property
    def node(self):
        return self.office or self.institution

    @property
    def role_label(self) -> str:
        if self.office_id:
            return self.office.get_kind_display()
        if self.institution_id:
            return _("Institution master account") if self.is_master else _("Institution staff account")
        return _("System administrator")

    def set_password(self, raw_password):
        """Every new password restarts the rotation clock; whoever issues a one-time password sets its expiry."""
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()
        self.one_time_password_expires_at = None

    @property
    def account_kind(self) -> str:
        """One of "office", "institution" or "admin": the values the PASSWORD_*_FOR settings take."""
        if self.office_id:
            return "office"
        return "institution" if self.institution_id else "admin"

    @property
    def one_time_password_expired(self) -> bool:
        expires = self.one_time_password_expires_at
        return self.must_change_password and expires is not None and expires <= timezone.now()

    @property
    def password_expired(self) -> bool:
        """The password is older than PASSWORD_MAX_AGE_DAYS and this kind of account must rotate it."""
        max_age = getattr(settings, "PASSWORD_MAX_AGE_DAYS", 0)
        if not max_age or self.account_kind not in getattr(settings, "PASSWORD_ROTATION_FOR", ()):
            return False
        changed = self.password_changed_at or self.date_joined
        return timezone.now() - changed > datetime.timedelta(days=max_age)


class AuditEvent(models.Model):
    """One recorded action: who did what to which object, when, with the values before and after.

    Rows are append-only: a database trigger refuses UPDATE and DELETE, whatever path the change takes.
    """

    class Kind(models.TextChoices):
        LOGIN = "login", _("Login")
        LOGIN_FAILED = "login_failed", _("Failed login")
        LOGOUT = "logout", _("Logout")
        PASSWORD_CHANGE = "password_change", _("Password changed")
        ACCOUNT_ISSUE = "account_issue", _("Account issued")
        ACCOUNT_DISABLE = "account_disable", _("Account disabled")
        ACCOUNT_ENABLE = "account_enable", _("Account enabled")
        ACCOUNT_RESET_PASSWORD = "account_reset_password", _("Password reset")
        OFFICE_CREATE = "office_create", _("Office created")
        OFFICE_UPDATE = "office_update", _("Office changed")
        INSTITUTION_CREATE = "institution_create", _("Institution created")
        INSTITUTION_UPDATE = "institution_update", _("Institution changed")
        ROSTER_FINALISE = "roster_finalise", _("Roster finalised")
        ROSTER_CANCEL = "roster_cancel", _("Roster discarded")
        ROSTER_SUBMIT = "roster_submit", _("Roster submitted")
        ROSTER_SCAN = "roster_scan", _("Stamped scan uploaded")
        ROSTER_ACCEPT = "roster_accept", _("Roster filed")
        ROSTER_RETURN = "roster_return", _("Roster returned")
        FILING_REOPEN = "filing_reopen", _("Filing reopened")
        VERIFICATION = "verification", _("Roster verification")
        ELIGIBILITY_LOOKUP = "eligibility_lookup", _("Eligibility lookup")
        FULL_ID_VIEW = "full_id_view", _("Full ID number viewed")
        EXPORT = "export", _("Export")
        IMPORT = "import", _("Import")
        EXAM_YEAR_SAVE = "exam_year_save", _("Exam year saved")
        LOGIN_LOCKED_OUT = "login_locked_out", _("Login refused: locked out")
        ACCOUNT_UNLOCK = "account_unlock", _("Account unlocked")
        TWO_FACTOR_ENABLE = "two_factor_enable", _("Two-factor authentication set up")
        TWO_FACTOR_DISABLE = "two_factor_disable", _("Two-factor authentication removed")
        TWO_FACTOR_RESET = "two_factor_reset", _("Two-factor device reset")
        TWO_FACTOR_FAILED = "two_factor_failed", _("Wrong two-factor code")
        RECOVERY_CODES = "recovery_codes", _("Recovery codes issued")
        SESSION_END = "session_end", _("Session ended")

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(User, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("actor"))
    actor_username = models.CharField(_("actor username"), max_length=150, blank=True)
    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices, db_index=True)
    target_type = models.CharField(_("object type"), max_length=50, blank=True)
    target_id = models.CharField(_("object id"), max_length=64, blank=True, db_index=True)
    target_label = models.CharField(_("object"), max_length=255, blank=True)
    region = models.ForeignKey(
        "institutions.Region",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region"),
    )
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-pk"]
        triggers = [
            pgtrigger.Protect(name="audit_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.get_kind_display()} {self.target_label}"


class UserSession(models.Model):
    """One login session of an account: the registry behind idle and absolute timeouts and "My sessions".

    The session key is a bearer secret: only its SHA-256 is stored. A session whose row is gone is refused
    (accounts.middleware.SessionRegistryMiddleware), so deleting rows ends sessions without knowing their keys.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, models.CASCADE, related_name="login_sessions", verbose_name=_("account"))
    key_hash = models.CharField(_("session key hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("started"), default=timezone.now)
    last_seen = models.DateTimeField(_("last active"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("login session")
        verbose_name_plural = _("login sessions")
        ordering = ["-last_seen", "-pk"]

    def __str__(self):
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M}"
