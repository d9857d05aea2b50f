from django import forms


class DateInput(forms.DateInput):
    """A browser date picker. Browsers only accept ISO dates in <input type=date>, whatever the language."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")
