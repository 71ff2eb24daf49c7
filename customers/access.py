"""Access: one download of everything held on a customer (a data subject's access request).

The customers app writes its own part; every other app contributes a section through the
registry in crm.lib.personal_data. The download is a JSON document, or a zip of that
document and the files held on the customer when there are any.
"""

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest
from django.utils import timezone

from core.attachments import attachment_data_files
from core.audit import audit_record
from core.models import AuditEvent
from crm.lib.personal_data import (
    MIN_SCRUB_LENGTH,
    DataFile,
    data_sections,
    mentioning,
    rows_of,
)
from customers.erasure import VALUE_FIELDS, personal_values
from customers.models import Consent, Customer, CustomerImport, Interaction

CUSTOMER_FIELDS = [
    *["id", "kind", "name", "organization", "email", "phone", "country", "region", "city"],
    *["address", "industry", "company_size", "source", "stage", "is_key_account"],
    *["preferred_channel", "external_id", "notes", "owner__username", "created_at"],
    "erased_at",
]


@dataclass(frozen=True)
class Download:
    file_name: str
    content_type: str
    content: bytes


def customer_data_download(
    *, customer: Customer, by: User, request: HttpRequest | None = None
) -> Download:
    """Everything held on the customer, recorded in the audit log as an access request."""
    data: dict[str, Any] = {
        "generated_at": timezone.now(),
        "customer_id": customer.pk,
        "customers": customers_data_of(customer),
    }
    files = [*import_file_lines(customer), *attached_files(customer)]
    for section in data_sections():
        data[section.key] = section.collect(customer)
        if section.files is not None:
            files.extend(section.files(customer))
    document = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode()
    stem = f"customer-{customer.pk}-{timezone.localdate():%Y%m%d}"
    audit_record(
        AuditEvent.Action.ACCESS,
        request=request,
        actor=by,
        target=customer,
        rows=len(files),
        detail={"sections": list(data), "files": len(files)},
    )
    if not files:
        return Download(f"{stem}.json", "application/json", document)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{stem}/data.json", document)
        for data_file in files:
            archive.writestr(f"{stem}/files/{data_file.name}", data_file.content)
    return Download(f"{stem}.zip", "application/zip", buffer.getvalue())


def customers_data_of(customer: Customer) -> dict[str, Any]:
    consents = Consent.objects.filter(customer=customer)
    return {
        "profile": rows_of(Customer.objects.filter(pk=customer.pk), *CUSTOMER_FIELDS)[0],
        "tags": list(customer.tags.values_list("name", flat=True)),
        "contacts": rows_of(
            customer.contacts.all(), "id", "name", "job_title", "email", "phone", "is_primary"
        ),
        "interactions": rows_of(
            customer.interactions.all(),
            *["occurred_at", "channel", "direction", "summary", "contact_id"],
            "logged_by__username",
        ),
        "tasks": rows_of(customer.tasks.all(), "title", "due_date", "done", "assignee__username"),
        "consents": rows_of(consents, "channel", "granted", "changed_at", "source"),
        "consent_history": rows_of(
            Consent.history.filter(customer_id=customer.pk),
            *["channel", "granted", "changed_at", "source", "history_date", "history_type"],
        ),
        "change_history": rows_of(
            Customer.history.filter(id=customer.pk),
            *[*VALUE_FIELDS, "organization", "city", "stage", "notes"],
            *["history_date", "history_type", "history_user__username"],
        ),
    }


def attached_files(customer: Customer) -> list[DataFile]:
    """The files attached to the customer and to its interactions."""
    return [
        *attachment_data_files(Customer.objects.filter(pk=customer.pk), "customer"),
        *attachment_data_files(Interaction.objects.filter(customer=customer), "interactions"),
    ]


def import_file_lines(customer: Customer) -> list[DataFile]:
    """The lines of stored import files (those not yet imported) that mention the customer,
    under their file's header: the file itself holds other people's rows too."""
    values = [v.lower() for v in personal_values(customer) if len(v) >= MIN_SCRUB_LENGTH]
    files = []
    for customer_import in CustomerImport.objects.filter(mentioning("text", values)):
        lines = customer_import.text.splitlines()
        wanted = [line for line in lines[1:] if any(v in line.lower() for v in values)]
        if wanted:
            content = "\n".join([lines[0], *wanted]) + "\n"
            files.append(DataFile(f"customer-import-{customer_import.pk}.csv", content.encode()))
    return files
