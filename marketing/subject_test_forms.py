"""The subject-line test's form: validation and normalisation only (it never saves)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from marketing.models import SubjectTest


class SubjectTestForm(forms.ModelForm):
    class Meta:
        model = SubjectTest
        fields = ["subject_b", "sample_percent", "metric", "wait_hours"]
        help_texts = {
            "subject_b": _(
                "Personalise it like subject A, for example {{ first_name }}; compare "
                "one change at a time (the wording, the offer, the length)."
            ),
            "wait_hours": _(
                "After this wait from the start of sending, the subject with the better rate "
                "goes to everyone else. On a tie, or with nothing measured, subject A wins."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject_b"].error_messages["required"] = _(
            "Write subject B, or remove the test."
        )

    def clean_subject_b(self):
        subject = " ".join(self.cleaned_data["subject_b"].split())
        if not subject:
            raise forms.ValidationError(_("Write subject B, or remove the test."))
        return subject
