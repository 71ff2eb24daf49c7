"""Forms of the order import: the uploaded file, and the confirmation."""

import io

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from crm.lib.uploads import ImportFileError, decode_upload
from sales.importing import OrderImportReport, read_orders


class OrderImportUploadForm(forms.Form):
    """The CSV file; the file as a whole is checked here, its rows in the preview."""

    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8 encoded, with the column names on the first line."),
        error_messages={
            "required": _("Choose a CSV file to upload."),
            "empty": _("The file is empty."),
            "invalid": _("No file was uploaded; choose a CSV file."),
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.CRM_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _(
                    "The file is %(size)s; the largest file you can import here is %(max)s. "
                    "Bigger files are imported on the server with "
                    "“python manage.py import_orders FILE.csv”."
                )
                % {"size": filesizeformat(upload.size), "max": filesizeformat(limit)}
            )
        try:
            self.text = decode_upload(upload.read())
            report = OrderImportReport()
            for _chunk in read_orders(io.StringIO(self.text, newline=""), report):
                pass
        except ImportFileError as error:
            raise forms.ValidationError(error.messages) from error
        self.row_count = report.rows
        return upload


class OrderImportApplyForm(forms.Form):
    create_customers = forms.BooleanField(
        label=_("Create the missing customers"),
        help_text=_("A customer named after its external id, stage customer, source import."),
        required=False,
    )
