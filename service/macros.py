"""Macros (canned replies) and reply drafts: who sees which, how a macro reads for a ticket,
and their writes (keyword-only, one transaction each, as service.services)."""

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from crm.lib.template_sandbox import compile_checked, render_text
from service.models import Macro, Priority, ReplyDraft, Ticket

MACRO_FIELDS = (
    "customer.name",
    "customer.first_name",
    "agent.name",
    "agent.first_name",
    "ticket.number",
    "ticket.subject",
)
SEARCH_RESULTS = 8


# Reads -------------------------------------------------------------------------------------


def macros_visible_to(user: User | AnonymousUser) -> QuerySet[Macro]:
    """The shared macros and the user's own; another agent's personal ones never."""
    if not user.is_authenticated or not user.has_perm("service.view_macro"):
        return Macro.objects.none()
    return Macro.objects.filter(Q(owner__isnull=True) | Q(owner=user))


def macros_editable_by(user: User | AnonymousUser) -> QuerySet[Macro]:
    """The user's own macros, and the shared ones for those who may share (managers)."""
    if not user.is_authenticated or not user.has_perm("service.change_macro"):
        return Macro.objects.none()
    if user.has_perm("service.share_macro"):
        return macros_visible_to(user)
    return Macro.objects.filter(owner=user)


def macro_search(user: User | AnonymousUser, query: str) -> list[Macro]:
    macros = macros_visible_to(user)
    if query:
        macros = macros.filter(Q(name__icontains=query) | Q(body__icontains=query))
    return list(macros.select_related("set_assignee").prefetch_related("add_tags")[:SEARCH_RESULTS])


def draft_for(ticket: Ticket, user: User | AnonymousUser) -> ReplyDraft | None:
    if not user.is_authenticated:
        return None
    return ReplyDraft.objects.filter(ticket=ticket, author=user).first()


# Rendering ---------------------------------------------------------------------------------


def _person(full_name: str) -> dict[str, str]:
    parts = full_name.split()
    return {"name": full_name, "first_name": parts[0] if parts else ""}


def macro_context(ticket: Ticket, agent: User) -> dict[str, dict[str, str]]:
    """Plain strings only: a template cannot reach a model's other attributes."""
    customer_name = ticket.customer.name if ticket.customer is not None else ticket.sender_name
    return {
        "customer": _person(customer_name),
        "agent": _person(agent.get_full_name() or agent.get_username()),
        "ticket": {"number": ticket.number, "subject": ticket.subject},
    }


def check_macro_body(body: str) -> None:
    """ValidationError in plain words for a mistake or a field that does not exist."""
    compile_checked(body, MACRO_FIELDS)


def macro_text(macro: Macro, *, ticket: Ticket, agent: User) -> str:
    return render_text(compile_checked(macro.body, MACRO_FIELDS), macro_context(ticket, agent))


def macro_actions(macro: Macro) -> list[str]:
    """What the macro changes on sending, in words the agent reads before sending."""
    actions = []
    if macro.set_status:
        status = dict(Ticket.Status.choices).get(macro.set_status, macro.set_status)
        actions.append(_("Set status: %(value)s") % {"value": status})
    if macro.set_priority:
        priority = dict(Priority.choices).get(macro.set_priority, macro.set_priority)
        actions.append(_("Set priority: %(value)s") % {"value": priority})
    if macro.set_assignee_id and macro.set_assignee is not None:
        actions.append(_("Assign to: %(value)s") % {"value": macro.set_assignee.get_username()})
    tags = [tag.name for tag in macro.add_tags.all()]
    if tags:
        actions.append(_("Add tags: %(value)s") % {"value": ", ".join(tags)})
    return actions


# Writes ------------------------------------------------------------------------------------


@transaction.atomic
def macro_save(*, user: User, macro: Macro | None = None, shared: bool, tags, **fields) -> Macro:
    """Create (macro=None) or change a macro; only managers write shared ones."""
    if shared and not user.has_perm("service.share_macro"):
        raise PermissionDenied
    if macro is not None and macro.pk and not macros_editable_by(user).filter(pk=macro.pk).exists():
        raise PermissionDenied
    check_macro_body(fields.get("body", ""))
    macro = macro or Macro()
    for name, value in fields.items():
        setattr(macro, name, value)
    macro.owner = None if shared else (macro.owner or user)
    macro.full_clean()
    macro.save()
    macro.add_tags.set(tags)
    return macro


@transaction.atomic
def macro_delete(*, user: User, macro: Macro) -> None:
    if not macros_editable_by(user).filter(pk=macro.pk).exists():
        raise PermissionDenied
    macro.delete()


@transaction.atomic
def draft_save(*, ticket: Ticket, author: User, body: str, internal: bool) -> ReplyDraft | None:
    """Keep what the agent is typing; an emptied box removes the draft."""
    if not body.strip():
        draft_clear(ticket=ticket, author=author)
        return None
    draft, _created = ReplyDraft.objects.update_or_create(
        ticket=ticket, author=author, defaults={"body": body, "internal": internal}
    )
    return draft


def draft_clear(*, ticket: Ticket, author: User) -> None:
    ReplyDraft.objects.filter(ticket=ticket, author=author).delete()
