"""Forms of the order import: the uploaded file, and the confirmation."""

import io

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from crm.lib.uploads import CsvUploadForm, decode_upload
from sales.importing import OrderImportReport, read_orders


class OrderImportUploadForm(CsvUploadForm):
    """The CSV file; the file as a whole is checked here, its rows in the preview."""

    too_large_message = _(
        "The file is %(size)s; the largest file you can import here is %(max)s. "
        "Bigger files are imported on the server with "
        "“python manage.py import_orders FILE.csv”."
    )

    def read_file(self, upload: UploadedFile) -> None:
        self.text = decode_upload(upload.read())
        report = OrderImportReport()
        for _chunk in read_orders(io.StringIO(self.text, newline=""), report):
            pass
        self.row_count = report.rows


class OrderImportApplyForm(forms.Form):
    create_customers = forms.BooleanField(
        label=_("Create the missing customers"),
        help_text=_("A customer named after its external id, stage customer, source import."),
        required=False,
    )
