"""The ticket page: conversation, reply, the side form, and the customer's summary."""

from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.attachments import attachment_panel, with_attachment_files
from core.exchange import dated_total
from core.models import OutboxMessage
from core.selectors import outbox_about
from crm.lib.concurrency import ConcurrentEditError, Difference, form_after_conflict
from crm.lib.http import AuthenticatedHttpRequest
from crm.lib.params import MAX_ID
from crm.lib.public_links import public_url
from customers.selectors import may_see_customer_money
from service.forms import ReplyForm, TicketUpdateForm
from service.knowledge import article_plain_text, suggest_articles
from service.knowledge_translations import localize
from service.macros import draft_for, draft_save, macro_actions, macros_visible_to
from service.models import Ticket
from service.selectors import (
    can_work_ticket,
    customer_service_summary,
    ticket_conversation,
    ticket_email_problems,
    tickets_visible_to,
    with_sla_flags,
)
from service.services import ticket_update
from service.views.display import PRIORITY_CSS, sla_state, target_state
from service.views.requester import requester_candidates

RELATED_ARTICLES = 5
PAST_TICKETS = 5
OPEN_DEAL = "open"  # sales.models.Deal.Status.OPEN (service does not import sales)


def _visible_ticket(request, pk, now) -> Ticket:
    """The ticket if the user may see it: 403 without the permission, 404 for others'."""
    if not request.user.has_perm("service.view_ticket"):
        raise PermissionDenied
    if pk > MAX_ID:
        raise Http404
    tickets = with_sla_flags(tickets_visible_to(request.user), now=now)
    return get_object_or_404(
        tickets.select_related(
            "customer", "contact", "assignee", "team", "satisfaction", "merged_into"
        ),
        pk=pk,
    )


def workable_ticket(request, pk, now) -> Ticket:
    ticket = _visible_ticket(request, pk, now)
    if not can_work_ticket(request.user, ticket):
        raise PermissionDenied
    return ticket


def _customer_summary(request, ticket) -> dict:
    """The 360° summary beside the conversation: value, open deals, past tickets, CSAT.
    A requester's ticket has no customer (service.views.requester decides who it is)."""
    customer = ticket.customer
    if customer is None:
        return {}
    summary = dict(customer_service_summary(customer, user=request.user))
    if may_see_customer_money(request.user, customer):
        lifetime = dated_total(customer.orders.all(), amount="total", when="ordered_at")
        summary["lifetime"], summary["missing"] = lifetime.amount, lifetime.missing
        summary["currency"] = settings.CRM_CURRENCY
    if request.user.has_perm("sales.view_deal"):
        summary["open_deals"] = customer.deals.filter(status=OPEN_DEAL).count()
    summary["recent_tickets"] = list(
        tickets_visible_to(request.user)
        .filter(customer=customer)
        .exclude(pk=ticket.pk)
        .order_by("-created_at", "-id")[:PAST_TICKETS]
    )
    return summary


def _related_articles(request, ticket) -> list[dict]:
    """Each with the public help-centre link (reachable by the customer: crm.lib.public_links)
    and the article's plain text, which "Insert" puts into the reply."""
    articles = suggest_articles(f"{ticket.subject}\n{ticket.description}", limit=RELATED_ARTICLES)
    # In the language the customer wrote in when the ticket records it, else the original.
    return [
        {
            "article": article,
            "link": public_url(reverse("help:article", args=[article.pk]), request),
            "text": article_plain_text(article.shown_body),
        }
        for article in localize(articles, ticket.language)
    ]


def render_ticket_page(
    request: HttpRequest,
    ticket: Ticket,
    now: datetime,
    *,
    reply_form: ReplyForm | None = None,
    update_form: TicketUpdateForm | None = None,
    status: int = 200,
    conflicts: list[Difference] | None = None,
) -> HttpResponse:
    can_work = can_work_ticket(request.user, ticket)
    tags = list(ticket.tags.all())
    if can_work:
        reply_form = reply_form or _reply_form_with_draft(request, ticket)
        update_form = update_form or TicketUpdateForm(ticket=ticket, tags=tags)
    context = {
        "ticket": ticket,
        "priority_css": PRIORITY_CSS.get(ticket.priority, ""),
        "tags": tags,
        "sla": sla_state(ticket, now),
        "first_response": target_state(
            ticket.first_response_due,
            ticket.first_responded_at,
            getattr(ticket, "first_response_breached", False),
            now,
        ),
        "resolution": target_state(
            ticket.resolution_due,
            ticket.resolved_at,
            getattr(ticket, "resolution_breached", False),
            now,
        ),
        "conversation": _conversation_with_files(request.user, ticket),
        "attachments": attachment_panel(request.user, ticket),
        "can_work": can_work,
        "reply_form": reply_form if can_work else None,
        "update_form": update_form if can_work else None,
        "conflicts": conflicts,
        "send_statuses": _send_statuses(ticket),
        **_queued_macro(reply_form if can_work else None),
        "related": _related_articles(request, ticket) if can_work else [],
        "summary": _customer_summary(request, ticket),
        "requester_candidates": (
            requester_candidates(request.user, ticket)
            if can_work and ticket.customer_id is None
            else []
        ),
        "satisfaction": getattr(ticket, "satisfaction", None),
        "email_problems": ticket_email_problems(ticket) if can_work else [],
    }
    return render(request, "service/ticket_detail.html", context, status=status)


def _send_statuses(ticket: Ticket) -> list[tuple[str, str | Promise]]:
    """The "Send and set …" choices: every status the ticket is not in, but New."""
    return [
        (value, label)
        for value, label in Ticket.Status.choices
        if value not in (Ticket.Status.NEW, ticket.status)
    ]


def _queued_macro(form: ReplyForm | None) -> dict:
    """A re-shown reply form still shows the actions of the macro the agent chose."""
    macro = getattr(form, "cleaned_data", {}).get("macro") if form is not None else None
    if macro is None:
        return {}
    return {"queued_macro": macro, "queued_actions": macro_actions(macro)}


def _reply_form_with_draft(request, ticket: Ticket) -> ReplyForm:
    """An empty reply form, or the one the agent left unsent here (saved as they typed)."""
    draft = draft_for(ticket, request.user)
    initial = {}
    if draft is not None:
        kind = ReplyForm.INTERNAL if draft.internal else ReplyForm.PUBLIC
        initial = {"body": draft.body, "kind": kind}
    form = ReplyForm(initial=initial, macros=macros_visible_to(request.user))
    form.has_draft = draft is not None
    return form


def _conversation_with_files(user, ticket: Ticket) -> list:
    """The thread, each message with the files the user may see (one query for all)."""
    conversation = ticket_conversation(ticket, include_internal=True)
    with_attachment_files(user, conversation)
    return conversation


def ticket_detail(request, pk):
    now = timezone.now()
    return render_ticket_page(request, _visible_ticket(request, pk, now), now)


@require_POST
def ticket_update_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    now = timezone.now()
    ticket = workable_ticket(request, pk, now)
    form = TicketUpdateForm(request.POST, ticket=ticket)
    if not form.is_valid():
        return render_ticket_page(request, ticket, now, update_form=form, status=422)
    data = form.cleaned_data
    if data["reply_draft"]:  # what the agent typed in the reply box stays a draft
        draft_save(
            ticket=ticket,
            author=request.user,
            body=data["reply_draft"],
            internal=data["reply_kind"] == ReplyForm.INTERNAL,
        )
    try:
        ticket_update(
            ticket=ticket,
            user=request.user,
            expected_version=data["version"],
            status=data["status"] or None,  # not on the page: the reply form sets it
            priority=data["priority"],
            assignee=data["assignee"],
            team=data["team"],
            category=data["category"],
            root_cause=data["root_cause"],
            tags=list(data["tags"]),
        )
    except ConcurrentEditError as error:
        form, conflicts = form_after_conflict(
            error,
            posted=request.POST,
            bind=lambda data, current: TicketUpdateForm(data, ticket=current),
        )
        current = _visible_ticket(request, pk, now)
        return render_ticket_page(
            request, current, now, update_form=form, status=409, conflicts=conflicts
        )
    except ValidationError as error:
        add_service_errors(form, error)
        return render_ticket_page(
            request, _visible_ticket(request, pk, now), now, update_form=form, status=422
        )
    messages.success(request, _("Ticket %(number)s saved.") % {"number": ticket.number})
    return redirect(ticket)


def add_service_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def email_delivered(message) -> bool:
    """True unless the reply's email is still waiting in the outbox (none is queued for a
    customer without an address: nothing is waiting then)."""
    statuses = set(outbox_about(message).values_list("status", flat=True))
    return statuses <= {OutboxMessage.Status.SENT}
