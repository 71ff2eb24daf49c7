"""What a mailbox's handler made of a message (integrations.mail.ingest records it). A module
of its own, so the handlers and the ingestion that calls them do not import each other."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import models


@dataclass
class Outcome:
    status: str  # an InboundEmail.Status
    text: str  # for the admin: "ticket T-000042", "logged on 2 customers"
    result: models.Model | None = None
    owner: AbstractBaseUser | None = None
