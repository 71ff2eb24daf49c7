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
import io
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models.functions import Cast
from django.db.models.signals import post_delete

from core.file_types import ACTIVE_TYPES as ACTIVE_TYPES  # the skeleton's name, for callers
from core.file_types import SNIFF_BYTES, sniff_content_type
from core.models import Attachment
from crm.lib.personal_data import DataFile

User = AbstractBaseUser | AnonymousUser
ViewRule = Callable[[User, models.Model], bool]


@dataclass(frozen=True)
class OwnerRule:
    can_view: ViewRule
    # Who may add files to the record and delete them (default: whoever may see it).
    can_add: ViewRule
    # The page that shows the record's files (default: its get_absolute_url()).
    page_url: Callable[[models.Model], str]


_owners: dict[str, OwnerRule] = {}


def register_attachment_owner(
    model: type[models.Model],
    *,
    can_view: ViewRule,
    can_add: ViewRule | None = None,
    page_url: Callable[[models.Model], str] | None = None,
) -> None:
    """Let `model`'s records hold files. Registering a model again replaces its rules (two
    apps' code may register the same model with the same rule)."""
    label = model._meta.label_lower
    _owners[label] = OwnerRule(
        can_view=can_view,
        can_add=can_add or can_view,
        page_url=page_url or _absolute_url,
    )
    post_delete.connect(
        _delete_attachments_of_owner, sender=model, weak=False, dispatch_uid=f"attachments:{label}"
    )


def _absolute_url(owner: models.Model) -> str:
    return str(owner.get_absolute_url())  # type: ignore[attr-defined]


def owner_rule(owner: models.Model) -> OwnerRule | None:
    return _owners.get(owner._meta.label_lower)


def registered_owner(label: str, pk: str) -> models.Model | None:
    """The record `label` (app_label.model) number `pk`, if that model holds files."""
    if label not in _owners:
        return None
    model = apps.get_model(label)
    try:
        return model._default_manager.filter(pk=pk).first()
    except (ValueError, TypeError, ValidationError):
        return None


def owner_page_url(owner: models.Model) -> str:
    rule = owner_rule(owner)
    return rule.page_url(owner) if rule else "/"


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


def attachment_add(
    *,
    owner: models.Model,
    content: bytes | IO[bytes] | File,
    name: str,
    uploaded_by: AbstractBaseUser | None = None,
    content_id: str = "",
) -> Attachment:
    """Store `content` as a file of `owner`, in the caller's transaction (a rolled-back
    caller leaves an orphan file at worst, never a row without its file). An uploaded file
    is copied to storage in chunks, never read whole into memory."""
    stored = content if isinstance(content, File) else File(_as_stream(content))
    head, size, digest = _inspect(stored)
    attachment = Attachment(
        owner_type=ContentType.objects.get_for_model(owner),
        owner_id=str(owner.pk),
        name=clean_file_name(name),
        content_type=sniff_content_type(head),
        size=size,
        sha256=digest,
        content_id=content_id.strip("<>")[:255],
        uploaded_by=uploaded_by,  # type: ignore[misc]
    )
    stored.seek(0)
    attachment.file.save(attachment.name, stored, save=False)
    attachment.save()
    return attachment


def _as_stream(content: bytes | IO[bytes]) -> IO[bytes]:
    return io.BytesIO(content) if isinstance(content, bytes) else content


def _inspect(stored: File) -> tuple[bytes, int, str]:
    """The first bytes (for the type), the size and the SHA-256, in one pass of chunks."""
    stored.seek(0)
    digest = hashlib.sha256()
    head = b""
    size = 0
    for chunk in stored.chunks():
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
        digest.update(chunk)
        size += len(chunk)
    return head, size, digest.hexdigest()


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
    ).select_related("uploaded_by")
    for attachment in rows:
        found.setdefault(attachment.owner_id, []).append(attachment)
    return found


def attachments_delete_of(owner: models.Model) -> int:
    """Delete the record's files (also once the record's row is gone: post_delete)."""
    return _delete_each(attachments_of(owner))


def attachments_delete_of_many(owners: models.QuerySet) -> int:
    """Delete the files of every record in `owners` (for erasure and bulk deletes, which send
    no post_delete per row): one query to find them; each file leaves storage on commit."""
    owner_ids = owners.annotate(attachment_key=Cast("pk", models.CharField())).values(
        "attachment_key"
    )
    found = Attachment.objects.filter(
        owner_type=ContentType.objects.get_for_model(owners.model), owner_id__in=owner_ids
    )
    return _delete_each(found)


def _delete_each(attachments: models.QuerySet[Attachment]) -> int:
    count = 0
    for attachment in attachments:
        attachment.delete()  # post_delete: its file leaves storage on commit
        count += 1
    return count


def attachments_move(*, source: models.Model, target: models.Model) -> int:
    """Give `source`'s files to `target` (a merge keeps the duplicate's files)."""
    return attachments_of(source).update(
        owner_type=ContentType.objects.get_for_model(target), owner_id=str(target.pk)
    )


def _delete_attachments_of_owner(
    sender: type[models.Model], instance: models.Model, **_: object
) -> None:
    attachments_delete_of(instance)


def _delete_stored_file(sender: type[Attachment], instance: Attachment, **_: object) -> None:
    name = instance.file.name
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))


post_delete.connect(_delete_stored_file, sender=Attachment, dispatch_uid="attachments:file")


@dataclass
class AttachmentPanel:
    """What templates/partials/attachments.html shows for one record."""

    owner: models.Model
    files: list[Attachment]
    may_add: bool
    label: str  # app_label.model, for the upload URL

    @property
    def owner_pk(self) -> str:
        return str(self.owner.pk)

    @property
    def max_file_bytes(self) -> int:
        return int(settings.CRM_ATTACHMENT_MAX_BYTES)


def attachment_panel(user: User, owner: models.Model | None) -> AttachmentPanel | None:
    """The record's files for a page, or None when the user may not see them (one query)."""
    if owner is None or not can_view_attachments(user, owner):
        return None
    files = list(attachments_of(owner).select_related("uploaded_by"))
    return AttachmentPanel(
        owner=owner,
        files=files,
        may_add=can_add_attachments(user, owner),
        label=owner._meta.label_lower,
    )


def with_attachment_files(user: User, owners: Iterable[models.Model]) -> None:
    """Set `attachment_files` (those the user may see) and `attachments_editable` on each of
    several records of one model, for a list or a conversation: one query for all."""
    owners = list(owners)
    visible = [owner for owner in owners if can_view_attachments(user, owner)]
    found = attachments_of_many(visible)  # no query when the user may see none
    for owner in owners:
        seen = owner in visible
        owner.attachment_files = found.get(str(owner.pk), []) if seen else []  # type: ignore[attr-defined]
        owner.attachments_editable = seen and can_add_attachments(user, owner)  # type: ignore[attr-defined]


def attachment_data_files(owners: models.QuerySet, folder: str) -> list[DataFile]:
    """The files of `owners` for a data subject's access download, as `folder/<id>-<name>`."""
    owner_ids = owners.annotate(attachment_key=Cast("pk", models.CharField())).values(
        "attachment_key"
    )
    found = Attachment.objects.filter(
        owner_type=ContentType.objects.get_for_model(owners.model), owner_id__in=owner_ids
    )
    files = []
    for attachment in found:
        try:
            with attachment.file.open("rb") as stream:
                content = stream.read()
        except FileNotFoundError:
            continue
        files.append(DataFile(f"{folder}/{attachment.pk}-{attachment.name}", content))
    return files
