"""The ticket page's answer: send (with a status and a macro's actions), the draft saved as
the agent types, and the macro picker of the reply box."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.attachment_forms import add_upload_refusals
from core.attachments import attachment_add
from crm.lib.http import AuthenticatedHttpRequest
from crm.lib.params import IdField, query_param, search_text
from crm.lib.upload_limits import accepts_uploads, attachment_limits
from service.answer import Answer, ticket_answer
from service.forms import REPLY_MAX_FILES, ReplyForm
from service.macros import (
    draft_save,
    macro_actions,
    macro_search,
    macro_text,
    macros_visible_to,
)
from service.models import TicketMessage
from service.views.ticket_page import (
    add_service_errors,
    email_delivered,
    render_ticket_page,
    workable_ticket,
)

MAX_DRAFT = 20_000


def _success_message(request, form: ReplyForm, message: TicketMessage | None) -> None:
    if message is None:
        messages.success(request, _("Ticket saved."))
    elif form.internal:
        messages.success(request, _("Internal note added."))
    elif email_delivered(message):
        messages.success(request, _("Reply sent to the customer."))
    else:
        messages.warning(
            request,
            _(
                "Reply saved. The email to the customer is queued and will be "
                "retried until it is delivered."
            ),
        )


@require_POST
@accepts_uploads(attachment_limits(max_files=REPLY_MAX_FILES))
def ticket_reply_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    now = timezone.now()
    ticket = workable_ticket(request, pk, now)
    form = ReplyForm(request.POST, request.FILES, macros=macros_visible_to(request.user))
    valid = form.is_valid()
    add_upload_refusals(form, request, "attachments")
    if not (valid and not form.errors):
        return render_ticket_page(request, ticket, now, reply_form=form, status=422)
    data = form.cleaned_data

    def attach(message: TicketMessage) -> None:
        for checked in data["attachments"]:
            attachment_add(
                owner=message, content=checked.upload, name=checked.name, uploaded_by=request.user
            )

    answer = Answer(
        body=data["body"],
        internal=form.internal,
        then_status=data["then_status"],
        macro=data["macro"],
    )
    try:
        message = ticket_answer(ticket=ticket, author=request.user, answer=answer, attach=attach)
    except ValidationError as error:
        add_service_errors(form, error)
        return render_ticket_page(request, ticket, now, reply_form=form, status=422)
    _success_message(request, form, message)
    anchor = f"#message-{message.pk}" if message else ""
    return redirect(f"{ticket.get_absolute_url()}{anchor}")


class DraftForm(forms.Form):
    body = forms.CharField(max_length=MAX_DRAFT, required=False, strip=False)
    kind = forms.ChoiceField(choices=[(ReplyForm.PUBLIC, ""), (ReplyForm.INTERNAL, "")])


@require_POST
def ticket_draft_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The reply box's autosave (htmx, after a pause in typing): answers a short status line."""
    ticket = workable_ticket(request, pk, timezone.now())
    form = DraftForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("The draft could not be saved: it is too long."), status=422)
    data = form.cleaned_data
    draft = draft_save(
        ticket=ticket,
        author=request.user,
        body=data["body"],
        internal=data["kind"] == ReplyForm.INTERNAL,
    )
    if draft is None:
        return HttpResponse("")
    when = time_format(timezone.localtime(draft.updated_at), "H:i")
    return HttpResponse(_("Draft saved at %(time)s.") % {"time": when})


@require_GET
def macro_picker(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The type-ahead list under the reply box: the macros the agent may use matching `q`."""
    ticket = workable_ticket(request, pk, timezone.now())
    macros = macro_search(request.user, search_text(request.GET, "macro_q"))
    return render(
        request, "service/partials/macro_results.html", {"ticket": ticket, "macros": macros}
    )


@require_GET
def macro_apply(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A macro as it reads for this ticket, and its actions in words, for the reply box."""
    ticket = workable_ticket(request, pk, timezone.now())
    macro_id = query_param(request.GET, "macro", IdField())
    macro = macros_visible_to(request.user).filter(pk=macro_id).first() if macro_id else None
    if macro is None:
        raise Http404
    try:
        text = macro_text(macro, ticket=ticket, agent=request.user)
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=422)
    return JsonResponse({"id": macro.pk, "text": text, "actions": macro_actions(macro)})
