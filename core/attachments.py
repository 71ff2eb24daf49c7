"""One attachment mechanism for every app (DESIGN.md: "one attachment model").

An app that lets files hang on its records registers the record's model with the rule that
says who may see the record (`register_attachment_owner`, in its AppConfig.ready, as panels
are registered): the download view asks that rule for the attachment's owner, so a file is
never more visible than the record it belongs to. Deleting a registered owner deletes its
attachments, and deleting an attachment deletes its file from storage once the transaction
commits (a rolled-back delete keeps the file).

Files go through Django's storage API (`default_storage`: MEDIA_ROOT by default, an
S3-compatible store through django-storages in production) under a random name; the user's
file name is kept only for display and for the download's Content-Disposition.
"""

import hashlib
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models.signals import post_delete

from core.models import Attachment

User = AbstractBaseUser | AnonymousUser
ViewRule = Callable[[User, models.Model], bool]


@dataclass(frozen=True)
class OwnerRule:
    can_view: ViewRule
    # Who may add files to the record (default: whoever may see it).
    can_add: ViewRule


_owners: dict[str, OwnerRule] = {}


def register_attachment_owner(
    model: type[models.Model], *, can_view: ViewRule, can_add: ViewRule | None = None
) -> None:
    label = model._meta.label_lower
    _owners[label] = OwnerRule(can_view=can_view, can_add=can_add or can_view)
    post_delete.connect(
        _delete_attachments_of_owner, sender=model, weak=False, dispatch_uid=f"attachments:{label}"
    )


def owner_rule(owner: models.Model) -> OwnerRule | None:
    return _owners.get(owner._meta.label_lower)


def can_view_attachments(user: User, owner: models.Model | None) -> bool:
    if owner is None:
        return False
    rule = owner_rule(owner)
    return bool(rule and user.is_authenticated and rule.can_view(user, owner))


def can_add_attachments(user: User, owner: models.Model) -> bool:
    rule = owner_rule(owner)
    return bool(rule and user.is_authenticated and rule.can_add(user, owner))


def clean_file_name(name: str) -> str:
    """The last part of a path a client sent, without control characters, at most 255
    characters (the extension kept): "../../etc/passwd" becomes "passwd"."""
    base = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip(" .")
    if len(base) > 255:
        stem, dot, ext = base.rpartition(".")
        base = stem[: 254 - len(ext)] + dot + ext if dot and len(ext) <= 16 else base[:255]
    return base or "file"


# Types a browser would render or run: served as plain bytes, whatever they are.
ACTIVE_TYPES = {"text/html", "image/svg+xml", "application/xhtml+xml", "text/xml"}

SIGNATURES = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
]


def sniff_content_type(head: bytes) -> str:
    """The type the content's first bytes show; never the type the sender claimed."""
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    return "application/octet-stream"


def attachment_add(
    *,
    owner: models.Model,
    content: bytes | IO[bytes] | File,
    name: str,
    uploaded_by: AbstractBaseUser | None = None,
    content_id: str = "",
) -> Attachment:
    """Store `content` as a file of `owner`, in the caller's transaction (a rolled-back
    caller leaves an orphan file at worst, never a row without its file)."""
    data = content if isinstance(content, bytes) else _read_all(content)
    attachment = Attachment(
        owner_type=ContentType.objects.get_for_model(owner),
        owner_id=str(owner.pk),
        name=clean_file_name(name),
        content_type=sniff_content_type(data[:64]),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content_id=content_id.strip("<>")[:255],
        uploaded_by=uploaded_by,  # type: ignore[misc]
    )
    attachment.file.save(attachment.name, ContentFile(data), save=False)
    attachment.save()
    return attachment


def _read_all(stream: IO[bytes] | File) -> bytes:
    if hasattr(stream, "seek"):
        stream.seek(0)
    return stream.read()


def attachments_of(owner: models.Model) -> models.QuerySet[Attachment]:
    return Attachment.objects.filter(
        owner_type=ContentType.objects.get_for_model(owner), owner_id=str(owner.pk)
    )


def attachments_of_many(owners: Iterable[models.Model]) -> dict[str, list[Attachment]]:
    """Attachments of several records of one model in one query, keyed by str(pk)."""
    owners = list(owners)
    if not owners:
        return {}
    found: dict[str, list[Attachment]] = {}
    rows = Attachment.objects.filter(
        owner_type=ContentType.objects.get_for_model(owners[0]),
        owner_id__in=[str(owner.pk) for owner in owners],
    )
    for attachment in rows:
        found.setdefault(attachment.owner_id, []).append(attachment)
    return found


def attachments_delete_of(owner: models.Model) -> int:
    count = 0
    for attachment in attachments_of(owner):
        attachment.delete()
        count += 1
    return count


def _delete_attachments_of_owner(
    sender: type[models.Model], instance: models.Model, **_: object
) -> None:
    attachments_delete_of(instance)


def _delete_stored_file(sender: type[Attachment], instance: Attachment, **_: object) -> None:
    name = instance.file.name
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))


post_delete.connect(_delete_stored_file, sender=Attachment, dispatch_uid="attachments:file")
