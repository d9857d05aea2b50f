from django import forms
from django.contrib.auth.forms import PasswordChangeForm
from django.utils.translation import gettext_lazy as _

from accounts.actions import grantable_permissions, issues_master_account
from accounts.models import User

PERMISSION_LABELS = {
    "view_office": _("View this office's jurisdiction"),
    "manage_office": _("Create and edit sub-offices and institutions"),
    "manage_accounts": _("Issue and manage accounts"),
    "view_institution": _("View the institution"),
    "change_institution": _("Edit the institution profile"),
    "manage_records": _("Enter and edit probation records"),
    "manage_staff": _("Issue and manage staff accounts"),
}


class IssueAccountForm(forms.Form):
    username = forms.RegexField(
        label=_("Username"),
        max_length=150,
        regex=r"^[A-Za-z0-9_.@+-]+\Z",
        error_messages={"invalid": _("Use letters, digits and . @ + - _ only.")},
    )
    full_name = forms.CharField(label=_("Holder's name"), max_length=50, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    permissions = forms.MultipleChoiceField(label=_("Permissions"), required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, issuer, node, **kwargs):
        super().__init__(*args, **kwargs)
        if issues_master_account(issuer, node):
            del self.fields["permissions"]
        else:
            # Choices are what the issuer holds himself; anything else posted is an invalid choice.
            choices = [(p, PERMISSION_LABELS[p]) for p in grantable_permissions(issuer, node)]
            self.fields["permissions"].choices = choices
            self.fields["permissions"].initial = [p for p, _label in choices]

    def clean_username(self):
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("This username is taken; choose another."))
        return username


class ForcedPasswordChangeForm(PasswordChangeForm):
    def clean_new_password1(self):
        new = self.cleaned_data.get("new_password1")
        if new and self.user.check_password(new):
            raise forms.ValidationError(_("Choose a password different from the one-time password."))
        return new


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code"),
        max_length=40,
        help_text=_("The 6 digits your authenticator app shows now, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}),
    )
