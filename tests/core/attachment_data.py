"""Records of every owner type with a file each, for the attachment tests."""

import io
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.files.storage import default_storage
from django.utils import timezone

from core.attachments import attachment_add
from core.models import Attachment
from sales.models import Quote
from sales.services import quote_create
from tests.factories import (
    CustomerFactory,
    DealFactory,
    InteractionFactory,
    TicketFactory,
    TicketMessageFactory,
)

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">'
    b"<script>alert(1)</script></svg>"
)


def zip_bomb(unpacked_bytes: int = 20 * 1024 * 1024) -> bytes:
    """A small zip that unpacks to `unpacked_bytes` of zeros: we must never unpack it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\x00" * unpacked_bytes)
    return buffer.getvalue()


def one_quote(deal: Any) -> Quote:
    return quote_create(
        deal=deal,
        valid_until=timezone.localdate() + timedelta(days=30),
        created_by=deal.owner,
        lines=[
            {
                "description": "Widget",
                "quantity": Decimal(1),
                "unit_price": Decimal("100.00"),
                "discount_percent": Decimal(0),
                "tax_rate": Decimal(0),
            }
        ],
    )


@dataclass
class Owners:
    customer: Any
    interaction: Any
    deal: Any
    quote: Any
    ticket: Any
    reply: Any
    note: Any

    def all(self) -> dict[str, object]:
        return dict(vars(self))


def owners_of(rep) -> Owners:
    """A customer of `rep` with an interaction, a deal and its quote, a ticket with a public
    reply and an internal note."""
    customer = CustomerFactory(owner=rep, name="Acme")
    deal = DealFactory(owner=rep, customer=customer)
    ticket = TicketFactory(customer=customer)
    return Owners(
        customer=customer,
        interaction=InteractionFactory(customer=customer),
        deal=deal,
        quote=one_quote(deal),
        ticket=ticket,
        reply=TicketMessageFactory(ticket=ticket, kind="reply"),
        note=TicketMessageFactory(ticket=ticket, kind="note"),
    )


def files_of(owners: Owners) -> dict[str, Attachment]:
    """One PNG on each record, keyed like Owners' fields."""
    return {
        key: attachment_add(owner=owner, content=PNG, name=f"{key}.png")  # type: ignore[arg-type]
        for key, owner in owners.all().items()
    }


def stored(attachment: Attachment) -> bool:
    return default_storage.exists(attachment.file.name or "")


def downloaded(response) -> bytes:
    """The body of a download; reading it to the end makes the test client close the file."""
    if response.status_code != 200:
        return b""
    return b"".join(response.streaming_content)
