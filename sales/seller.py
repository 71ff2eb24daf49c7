"""The seller on a printed quote: the company details record (admin), else a placeholder,
and the rep to contact (their name, email, and phone and job title from their profile)."""

import base64
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from core.file_types import SNIFF_BYTES, sniff_content_type
from core.models import UserProfile
from sales.selectors import rep_name
from sales.team_models import LOGO_MAX_BYTES, LOGO_TYPES, CompanyDetails


@dataclass(frozen=True)
class Seller:
    name: str
    address: str = ""
    tax_id: str = ""
    email: str = ""
    phone: str = ""
    website: str = ""
    logo_src: str = ""  # a data: URI (the print page makes no second request)

    @property
    def contact_line(self) -> str:
        return " · ".join(part for part in (self.phone, self.email, self.website) if part)


@dataclass(frozen=True)
class RepContact:
    name: str
    job_title: str = ""
    email: str = ""
    phone: str = ""

    @property
    def contact_line(self) -> str:
        return " · ".join(part for part in (self.email, self.phone) if part)


def rep_contact(rep: User) -> RepContact:
    profile = UserProfile.objects.filter(user=rep).first()  # none yet: name and email only
    return RepContact(
        name=rep_name(rep),
        job_title=profile.job_title if profile else "",
        email=rep.email,
        phone=profile.phone if profile else "",
    )


def current_seller() -> Seller:
    details = CompanyDetails.current()
    if details is None:
        return Seller(name=_("Our company"))
    return Seller(
        name=details.name,
        address=details.address,
        tax_id=details.tax_id,
        email=details.email,
        phone=details.phone,
        website=details.website,
        logo_src=_logo_data_uri(details),
    )


def _logo_data_uri(details: CompanyDetails) -> str:
    """The logo, read through the storage API, as a data: URI; empty when missing or not an
    image we accept (a file replaced behind the admin's back is not shown)."""
    if not details.logo or not details.logo.name:
        return ""
    try:
        with details.logo.storage.open(details.logo.name, "rb") as logo:
            content = logo.read(LOGO_MAX_BYTES + 1)
    except OSError:
        return ""
    content_type = sniff_content_type(content[:SNIFF_BYTES])
    if len(content) > LOGO_MAX_BYTES or content_type not in LOGO_TYPES:
        return ""
    return f"data:{content_type};base64,{base64.b64encode(content).decode('ascii')}"
