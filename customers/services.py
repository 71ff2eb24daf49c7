"""Writes: every change to customers goes through these functions."""

from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from itertools import islice
from types import EllipsisType

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.attachments import attachments_move
from core.events import changed_fields, event_record
from crm.lib.bulk import bulk_insert
from crm.lib.concurrency import (
    NOT_A_USER_EDIT,
    ExpectedVersion,
    lock_for_update,
    save_new_version,
)
from customers.merging import (
    keep_reach,
    lock_pair,
    merge_consents,
    merge_record,
    moved_by_receivers,
    take_values,
)
from customers.models import (
    CONTACT_DETAILS,
    Channel,
    Consent,
    Contact,
    Customer,
    Interaction,
    SavedView,
    Tag,
    Task,
)
from customers.notices import (
    customer_assigned_notify,
    customers_assigned_notify,
    interaction_mentions_notify,
)
from customers.reminders import task_arm_reminder, task_remind_at
from customers.signals import customers_merged

# Fields a customer form may set; owner and tags are handled on their own.
CUSTOMER_FIELDS = [
    "kind",
    "name",
    "organization",
    *CONTACT_DETAILS,
    "industry",
    "company_size",
    "source",
    "stage",
    "is_key_account",
    "preferred_channel",
    "language",
    "external_id",
    "notes",
]


@transaction.atomic
def customer_create(
    *,
    data: dict,
    owner: User | None = None,
    tags: Iterable[Tag] = (),
    consent_channels: Iterable[str] | None = None,
    consent_source: str = "",
    by: User | None = None,
) -> Customer:
    customer = Customer(owner=owner, **{k: v for k, v in data.items() if k in CUSTOMER_FIELDS})
    customer.full_clean()
    customer.save()
    customer.tags.set(tags)
    event_record(type="customer.created", target=customer, data=_customer_keys(customer))
    customer_assigned_notify(customer=customer, by=by)
    if consent_channels is not None:
        consent_update(customer=customer, granted_channels=consent_channels, source=consent_source)
    return customer


@transaction.atomic
def customer_update(
    *,
    customer: Customer,
    expected_version: ExpectedVersion,
    data: dict,
    owner: User | None | EllipsisType = ...,
    tags: Iterable[Tag] | None = None,
    consent_channels: Iterable[str] | None = None,
    consent_source: str = "",
    by: User | None = None,
) -> Customer:
    """Apply `data` unless someone else saved the customer since `expected_version` was read."""
    locked = lock_for_update(
        customer,
        expected_version=expected_version,
        conflict_message=_(
            "Someone else saved this customer while you were editing. Your changes were not saved."
        ),
    )
    changed = changed_fields(locked, data, CUSTOMER_FIELDS)
    for field in changed:
        setattr(locked, field, data[field])
    if owner is not ... and owner != locked.owner:
        locked.owner, changed = owner, [*changed, "owner"]
    save_new_version(locked)
    if tags is not None and set(tags) != set(locked.tags.all()):
        locked.tags.set(tags)
        changed.append("tags")
    if changed:
        event_record(type="customer.updated", target=locked, data=_changed(locked, changed))
    if "owner" in changed:
        customer_assigned_notify(customer=locked, by=by)
    if consent_channels is not None:
        consent_update(customer=locked, granted_channels=consent_channels, source=consent_source)
    return locked


def consent_update(*, customer: Customer, granted_channels: Iterable[str], source: str) -> None:
    """Set every channel's consent from a form; unchanged channels keep their date.

    Each change goes through consent_set, the one writer of consent.
    """
    granted = set(granted_channels)
    current = {c.channel: c.granted for c in customer.consents.all()}
    for channel in Channel.values:
        wanted = channel in granted
        if current.get(channel, False) != wanted:
            consent_set(customer=customer, channel=channel, granted=wanted, source=source)


@transaction.atomic
def consent_set(
    *,
    customer: Customer,
    channel: str,
    granted: bool,
    source: str,
    by: User | None | EllipsisType = ...,
) -> Consent:
    """Record one channel's opt-in or opt-out: the one path every consent change takes
    (the customer form, unsubscribe links, the preferences page, lead forms).

    The history row (simple-history) records when, `source` how, and `by` who: a user, or
    None when the customer did it themselves; left out, the request's user.
    """
    if channel not in Channel.values:
        raise ValidationError(_("Unknown channel."))
    consent = Consent.objects.select_for_update().filter(customer=customer, channel=channel).first()
    if consent is None:
        consent = Consent(customer=customer, channel=channel)
    elif consent.granted == granted:
        return consent
    consent.granted = granted
    consent.changed_at = timezone.now()
    consent.source = source[:100]
    if by is not ...:
        consent._history_user = by  # read by simple-history instead of the request's user
    consent.full_clean()
    consent.save()
    event_record(type="consent.changed", target=customer, data=_consent_keys(consent))
    return consent


def _customer_keys(customer: Customer) -> dict:
    """What an event says of a customer: codes and ids, no personal values."""
    return {
        "kind": customer.kind,
        "stage": customer.stage,
        "source": customer.source,
        "owner_id": customer.owner_id,
        "external_id": customer.external_id,
    }


def _changed(customer: Customer, fields: list[str]) -> dict:
    return {"changed": sorted(set(fields)), **_customer_keys(customer)}


def _consent_keys(consent: Consent) -> dict:
    return {"channel": consent.channel, "granted": consent.granted, "source": consent.source}


@transaction.atomic
def interaction_log(
    *,
    customer: Customer,
    logged_by: User | None,  # None: nobody logged it, the customer did (a form)
    channel: str,
    direction: str,
    summary: str,
    occurred_at: datetime | None = None,
    contact: Contact | None = None,
    mentions: bool = False,  # a note a user wrote: tell the people it @mentions
) -> Interaction:
    interaction = Interaction(
        customer=customer,
        logged_by=logged_by,
        channel=channel,
        direction=direction,
        summary=summary,
        occurred_at=occurred_at or timezone.now(),
        contact=contact,
    )
    interaction.full_clean(exclude=["logged_by"] if logged_by is None else None)
    interaction.save()
    if mentions:
        interaction_mentions_notify(interaction=interaction)
    return interaction


@transaction.atomic
def task_create(
    *,
    customer: Customer,
    title: str,
    due_date: date,
    assignee: User,
    created_by: User | None,
    due_time: time | None = None,
    reminder: int | None = None,
) -> Task:
    task = Task(
        customer=customer,
        title=title,
        due_date=due_date,
        due_time=due_time,
        reminder=reminder,
        assignee=assignee,
        created_by=created_by,
    )
    task_arm_reminder(task)
    task.full_clean()
    task.save()
    return task


FOLLOW_UP_BATCH = 500


@transaction.atomic
def follow_up_tasks_create(
    *,
    customers: Iterable[Customer],
    title: str,
    due_date: date,
    created_by: User,
    limit: int,
) -> tuple[int, int]:
    """A task titled `title` for the owner of each customer, in the order given, up to
    `limit` tasks; a customer without an owner or with an open task of that title is
    skipped. Returns (created, skipped)."""
    created = skipped = 0
    for batch in _batches(iter(customers), FOLLOW_UP_BATCH):
        with_open_task = set(
            Task.objects.filter(
                customer__in=[c.pk for c in batch], title=title, done=False
            ).values_list("customer_id", flat=True)
        )
        for customer in batch:
            if created >= limit:
                return created, skipped
            # (an owner_id of None reads no row)
            if customer.pk in with_open_task or (owner := customer.owner) is None:
                skipped += 1
                continue
            task_create(
                customer=customer,
                title=title,
                due_date=due_date,
                assignee=owner,
                created_by=created_by,
            )
            created += 1
    return created, skipped


def _batches(items: Iterator[Customer], size: int) -> Iterator[list[Customer]]:
    while batch := list(islice(items, size)):
        yield batch


def task_set_done(*, task: Task, done: bool) -> Task:
    """Complete or reopen; reopening (an undo) arms a reminder not yet sent again."""
    task.done = done
    task.done_at = timezone.now() if done else None
    if not done and task.reminded_at is None:
        task.remind_at = task_remind_at(task)
    task.save(update_fields=["done", "done_at", "remind_at"])
    return task


@transaction.atomic
def contact_save(*, customer: Customer, data: dict, contact: Contact | None = None) -> Contact:
    contact = contact or Contact(customer=customer)
    for field in ("name", "job_title", "email", "phone", "is_primary"):
        if field in data:
            setattr(contact, field, data[field])
    contact.full_clean()
    contact.save()
    if contact.is_primary:
        customer.contacts.exclude(pk=contact.pk).update(is_primary=False)
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact) -> None:
    contact.delete()


@transaction.atomic
def customer_delete(*, customer: Customer) -> None:
    """Delete a customer; raises ProtectedError when they have orders (the purchase history).

    Their change history goes too: it holds every value they ever had (issue 13)."""
    pk = customer.pk
    customer.delete()
    _forget_history(pk)


def _forget_history(customer_pk: int) -> None:
    Customer.history.filter(id=customer_pk).delete()
    Consent.history.filter(customer_id=customer_pk).delete()


class BulkAction:
    ASSIGN_OWNER = "assign_owner"
    ADD_TAG = "add_tag"
    REMOVE_TAG = "remove_tag"
    SET_STAGE = "set_stage"


@transaction.atomic
def customers_bulk_update(
    *, customers: QuerySet[Customer], action: str, value: User | Tag | str, by: User
) -> int:
    """Apply one change to many customers, keeping their history; returns how many changed.

    `value` is the owner, the stage, or the tag (to add: a tag or the name of one, made here
    if new, only for a user with customers.add_tag and only when a customer gets it: a
    refused or empty change leaves no tag behind)."""
    if action == BulkAction.ADD_TAG and isinstance(value, str):
        existing = Tag.objects.filter(name=value).first()
        if existing is None and not by.has_perm("customers.add_tag"):
            raise PermissionDenied(_("You may not create tags."))
        value = existing or value
    if action == BulkAction.REMOVE_TAG and not isinstance(value, Tag):
        raise TypeError("Removing a tag takes a Tag.")
    changed = 0
    locked = list(
        Customer.objects.select_for_update().filter(pk__in=customers.values("pk")).order_by("pk")
    )
    if locked and action == BulkAction.ADD_TAG and isinstance(value, str):
        value = Tag.objects.get_or_create(name=value)[0]
    field = {BulkAction.ASSIGN_OWNER: "owner", BulkAction.SET_STAGE: "stage"}.get(action, "tags")
    for customer in locked:
        if action == BulkAction.ADD_TAG and isinstance(value, Tag):
            customer.tags.add(value)
        elif action == BulkAction.REMOVE_TAG and isinstance(value, Tag):
            customer.tags.remove(value)
        else:
            if getattr(customer, field) == value:
                continue
            setattr(customer, field, value)
            customer.version += 1
            customer.save()
        changed += 1
        event_record(type="customer.updated", target=customer, data=_changed(customer, [field]))
    if action == BulkAction.ASSIGN_OWNER and isinstance(value, User):
        customers_assigned_notify(owner=value, count=changed, by=by)
    return changed


@transaction.atomic
def customers_merge(
    *, kept: Customer, duplicate: Customer, merged_by: User, take: Iterable[str] = ()
) -> Customer:
    """Fold `duplicate` into `kept`: its history moves over, the fields named in `take` take
    the duplicate's value, blank ones are filled, every email and phone of both stays (on
    the record or as a contact), the merge is recorded (CustomerMerge) and it is deleted."""
    if kept.pk == duplicate.pk:
        raise ValueError(_("A customer cannot be merged with itself."))
    kept, duplicate = lock_pair(kept, duplicate)
    before = (kept.name, kept.email, kept.phone)
    taken = take_values(kept=kept, duplicate=duplicate, fields=list(take))
    for field in CUSTOMER_FIELDS:
        if getattr(kept, field) in ("", None) and getattr(duplicate, field) not in ("", None):
            setattr(kept, field, getattr(duplicate, field))
    if kept.owner_id is None:
        kept.owner_id = duplicate.owner_id
    kept.is_key_account = kept.is_key_account or duplicate.is_key_account
    if kept.external_id == duplicate.external_id:
        duplicate.external_id = ""
        duplicate.save(update_fields=["external_id"])
    attachments_move(source=duplicate, target=kept)  # deleting the duplicate deletes its files
    moved = {
        "customers.interaction": Interaction.objects.filter(customer=duplicate).update(
            customer=kept
        ),
        "customers.task": Task.objects.filter(customer=duplicate).update(customer=kept),
        "customers.contact": Contact.objects.filter(customer=duplicate).update(
            customer=kept, is_primary=False
        ),
    }
    keep_reach(kept=kept, records=[before, (duplicate.name, duplicate.email, duplicate.phone)])
    kept.tags.add(*duplicate.tags.all())
    merge_consents(kept=kept, duplicate=duplicate)
    responses = customers_merged.send(
        sender=Customer, kept=kept, duplicate=duplicate, merged_by=merged_by
    )
    moved |= moved_by_receivers(responses)
    merge_record(kept=kept, duplicate=duplicate, merged_by=merged_by, moved=moved, taken=taken)
    duplicate_pk = duplicate.pk
    duplicate.delete()
    _forget_history(duplicate_pk)  # its values live on in `kept`, whose history is kept
    kept.version += 1
    kept._change_reason = f"merged #{duplicate_pk}"  # type: ignore[attr-defined]  # simple-history
    kept.save()
    event_record(
        type="customer.merged", target=kept, data={"duplicate_id": duplicate_pk, "moved": moved}
    )
    return kept


def customer_mark_buying(*, customer: Customer) -> bool:
    """The first order makes a lead, a prospect or a churned customer a customer (issue 16:
    a won deal's order left the customer a prospect). A new version, so an edit form opened
    before the order cannot put the old stage back unnoticed; True when the stage changed."""
    if customer.stage == Customer.Stage.CUSTOMER:
        return False
    locked = lock_for_update(customer, expected_version=NOT_A_USER_EDIT, conflict_message="")
    if locked.stage == Customer.Stage.CUSTOMER:
        return False
    locked.stage = Customer.Stage.CUSTOMER
    save_new_version(locked)
    event_record(type="customer.updated", target=locked, data=_changed(locked, ["stage"]))
    customer.stage, customer.version = locked.stage, locked.version
    return True


def customers_mark_email_undeliverable(*, address: str, now: datetime | None = None) -> int:
    """Every customer whose email is `address` (any case) gets it marked undeliverable.

    A plain UPDATE (no history row): the flag is the system's observation, not an edit."""
    if not address or "@" not in address:
        return 0
    return Customer.objects.filter(email__iexact=address.strip()).update(
        email_bounced=F("email"), email_bounced_at=now or timezone.now()
    )


def customers_create_for_import(*, external_ids: list[str], owner: User | None = None) -> int:
    """Customers for the unknown external ids of an order import, in bulk (COPY on PostgreSQL,
    no signals or history): stage customer, source import, name = the id."""
    now = timezone.now()
    template = Customer(
        name="-",
        source=Customer.Source.IMPORT,
        stage=Customer.Stage.CUSTOMER,
        owner=owner,
        created_at=now,
        updated_at=now,
    )
    fields = [
        f.attname
        for f in Customer._meta.concrete_fields
        if not f.primary_key and not getattr(f, "generated", False)
    ]
    base = [getattr(template, name) for name in fields]
    i_name, i_external = fields.index("name"), fields.index("external_id")

    def rows() -> Iterator[list]:
        for external_id in external_ids:
            row = list(base)
            row[i_name] = external_id[:200]
            row[i_external] = external_id
            yield row

    return bulk_insert(Customer, fields, rows())


def saved_view_save(*, user: User, name: str, query: str) -> SavedView:
    view, _created = SavedView.objects.update_or_create(
        user=user, name=name, defaults={"query": query}
    )
    return view


def saved_view_delete(*, view: SavedView) -> None:
    view.delete()
