from django import forms
from django.utils.translation import gettext_lazy as _

from institutions.models import Institution, Office
from institutions.scope import MANAGE_OFFICE, scope_for


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)


class OfficeForm(forms.ModelForm):
    class Meta:
        model = Office
        fields = ["name", "kind", "division_code", "contact_person", "contact_phone"]

    def __init__(self, *args, parent: Office, **kwargs):
        super().__init__(*args, **kwargs)
        # The parent comes from the URL, never from the form: set it so model validation sees it.
        self.instance.parent = parent
        self.instance.region_id = parent.region_id
        self.fields["kind"].choices = [c for c in Office.Kind.choices if c[0] != Office.Kind.REGION]


class InstitutionForm(forms.ModelForm):
    class Meta:
        model = Institution
        fields = ["name", "office", "contact_person", "contact_phone"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only offices where the user may place institutions; a forged value fails as an invalid choice.
        self.fields["office"].queryset = scope_for(user).offices(perm=MANAGE_OFFICE)

    def clean(self):
        cleaned = super().clean()
        office = cleaned.get("office")
        if office is not None:
            self.instance.region_id = office.region_id
        return cleaned
