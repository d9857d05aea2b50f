from django import forms
from django.contrib import admin
from django.contrib.auth import password_validation
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from guardian.shortcuts import assign_perm

from accounts import audit
from accounts.models import AuditEvent, User
from hbwsrc.admin import ReadOnlyAdmin, office_filter, site
from institutions.models import Office
from institutions.scope import OFFICE_PERMISSIONS, VIEW_OFFICE
from reports import audit_trail

ROLE_ADMINISTRATOR = "administrator"
ROLE_AUDITOR = "auditor"


class RegionAccountForm(forms.ModelForm):
    """A superuser issues the accounts of a region office: its administrator, who then issues every other account
    inside the platform, or an auditor, who reads the region here and changes nothing."""

    role = forms.ChoiceField(
        label=_("role"),
        choices=[(ROLE_ADMINISTRATOR, _("Region office administrator")), (ROLE_AUDITOR, _("Auditor (read-only)"))],
    )
    password1 = forms.CharField(label=_("One-time password"), widget=forms.PasswordInput, strip=False)

    class Meta:
        model = User
        fields = ("username", "full_name", "phone", "office")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = Office.objects.filter(parent__isnull=True)
        self.fields["office"].required = True

    def clean_password1(self):
        password = self.cleaned_data["password1"]
        password_validation.validate_password(password, User(username=self.data.get("username", "")))
        return password


@admin.register(User, site=site)
class UserAdmin(ReadOnlyAdmin):
    list_display = ("username", "full_name", "office", "institution", "is_master", "is_active", "is_staff")
    list_display += ("last_login", "date_joined")
    list_filter = ("is_active", "is_staff", "is_master", office_filter("office__path", "institution__path"))
    search_fields = ("username", "full_name", "phone")
    list_select_related = ("office", "institution")
    date_hierarchy = "date_joined"
    fields = (
        "username", "full_name", "phone", "office", "institution", "is_master", "is_active", "is_staff",
        "must_change_password", "issued_by", "last_login", "date_joined", "password_changed_at", "actions_link",
    )  # fmt: skip
    readonly_fields = ("actions_link",)

    def in_region(self, queryset, region_id):
        return queryset.filter(office__region_id=region_id) | queryset.filter(institution__region_id=region_id)

    def has_add_permission(self, request, *args):
        return request.user.is_superuser

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = RegionAccountForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("username", "full_name", "phone", "office", "role", "password1")
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        auditor = form.cleaned_data["role"] == ROLE_AUDITOR
        obj.set_password(form.cleaned_data["password1"])
        obj.must_change_password = True
        obj.is_staff = auditor
        obj.issued_by = request.user
        obj.save()
        permissions = (VIEW_OFFICE,) if auditor else OFFICE_PERMISSIONS
        for perm in permissions:
            assign_perm(perm, obj, obj.office)
        audit.record(
            AuditEvent.Kind.ACCOUNT_ISSUE,
            actor=request.user,
            target=obj,
            changes={"node": str(obj.office), "permissions": sorted(permissions), "auditor": auditor},
            request=request,
        )

    @admin.display(description=_("actions by this account"))
    def actions_link(self, obj):
        from django.urls import reverse
        from django.utils.html import format_html

        url = reverse("admin:accounts_auditevent_changelist") + f"?actor_username={obj.username}"
        return format_html('<a href="{}">{}</a>', url, _("Audit events of this account"))


@admin.register(AuditEvent, site=site)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor_username", "kind", "target_type", "target_label", "ip_address")
    list_filter = ("kind", "target_type")
    search_fields = ("actor_username", "target_label", "=target_id")
    date_hierarchy = "at"
    fields = ("at", "actor", "actor_username", "kind", "target_type", "target_id", "target_label", "region")
    fields += ("details", "ip_address")
    readonly_fields = ("details",)

    def in_region(self, queryset, region_id):
        return queryset.filter(audit_trail.audit_events_in_region(region_id))

    def lookup_allowed(self, lookup, value, request=None):
        # The "audit events of this account" link of an account's page filters by username.
        return lookup == "actor_username" or super().lookup_allowed(lookup, value, request)

    @admin.display(description=_("changes"))
    def details(self, obj):
        from django.utils.html import format_html_join

        rows = audit_trail.readable_audit_changes(obj)
        return format_html_join("", "<div>{}: {} → {}</div>", ((n, "—" if o is None else o, v) for n, o, v in rows))
