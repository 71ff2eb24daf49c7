"""The compose page: /mail/compose/?customer=ID, ?deal=ID or ?ticket=ID (404 for what the
user may not work on), with saved templates (?template=ID fills the editor)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from core.attachment_forms import add_upload_refusals
from crm.lib.http import querystring_without
from crm.lib.params import parse_id, search_text
from crm.lib.upload_limits import accepts_uploads, attachment_limits
from customers.selectors import customers_workable_by, search_customers
from integrations.compose import (
    MAX_FILES,
    ComposeForm,
    ComposeTarget,
    addresses_of,
    customer_email_send,
    email_template_save,
    email_templates_for,
    field_names,
)
from integrations.unfiled import may_file_email
from sales.selectors import can_change_deal, deals_visible_to
from service.selectors import tickets_workable_by

PICK_RESULTS = 20


def compose_target(request: HttpRequest) -> ComposeTarget | None:
    """What ?customer/?deal/?ticket names, if the user may write about it (else 404);
    None when the page names nothing (the customer picker)."""
    params = request.GET
    user = request.user
    if "deal" in params:
        deal = get_object_or_404(
            deals_visible_to(user).select_related("customer"), pk=_id(params["deal"])
        )
        if not can_change_deal(user, deal) or not _may_work(user, deal.customer_id):
            raise Http404
        return ComposeTarget(deal.customer, deal, note=_("Deal: %(title)s") % {"title": deal.title})
    if "ticket" in params:
        ticket = get_object_or_404(
            tickets_workable_by(user).select_related("customer", "contact"),
            pk=_id(params["ticket"]),
        )
        customer = ticket.customer
        if customer is None or not _may_work(user, customer.pk):
            raise Http404
        note = _("Ticket %(number)s: %(subject)s") % {
            "number": ticket.number,
            "subject": ticket.subject,
        }
        preferred = ticket.contact.email if ticket.contact else ticket.requester_email
        return ComposeTarget(customer, ticket, note=note, preferred=preferred or "")
    if "customer" in params:
        customer = get_object_or_404(customers_workable_by(user), pk=_id(params["customer"]))
        return ComposeTarget(customer, customer)
    return None


def _may_work(user, customer_id: int) -> bool:
    return customers_workable_by(user).filter(pk=customer_id).exists()


def _id(raw: str) -> int:
    pk = parse_id(raw)
    if pk is None:
        raise Http404
    return pk


@login_required
@accepts_uploads(attachment_limits(max_files=MAX_FILES))
def compose(request: HttpRequest) -> HttpResponse:
    if not may_file_email(request.user):
        raise Http404
    target = compose_target(request)
    if target is None:
        return _pick_customer(request)
    addresses = addresses_of(target.customer)
    templates = list(email_templates_for(request.user))
    form = ComposeForm(
        request.POST or None,
        request.FILES or None,
        addresses=addresses,
        initial=_initial(request, target, addresses, templates),
    )
    if request.method == "POST":
        valid = form.is_valid()
        # A file over the limits was dropped as it streamed in: say so, keep what was typed.
        add_upload_refusals(form, request, "attachments")
        if valid and not form.errors:
            sent = _send(request, target, form)
            if sent:
                return redirect(target.about.get_absolute_url())  # type: ignore[attr-defined]
        messages.error(
            request,
            _("The email was not sent: correct the fields marked below (attach files again)."),
        )
    context = {
        "form": form,
        "target": target,
        "addresses": addresses,
        "templates": templates,
        "fields": field_names(),
        "base_query": querystring_without(request.GET, "template"),
    }
    return render(request, "integrations/mail/compose.html", context, status=_status(form))


def _status(form: ComposeForm) -> int:
    return 422 if form.is_bound and (form.errors or not form.is_valid()) else 200


def _initial(request, target, addresses, templates) -> dict:
    known = {address for address, _label in addresses}
    preferred = target.preferred.lower()
    initial: dict = {"to": [preferred if preferred in known else next(iter(known), "")]}
    wanted = parse_id(request.GET.get("template"))
    chosen = next((t for t in templates if t.pk == wanted), None)
    if chosen is not None:
        initial.update(subject=chosen.subject, body=chosen.body)
    return initial


def _send(request: HttpRequest, target: ComposeTarget, form: ComposeForm) -> bool:
    data = form.cleaned_data
    try:
        with transaction.atomic():  # the template is saved with the email or not at all
            customer_email_send(
                sender=request.user,  # type: ignore[arg-type]
                target=target,
                to=data["to"],
                subject=data["subject"],
                body=data["body"],
                files=data["attachments"],
            )
            if data["save_as"]:
                email_template_save(
                    owner=request.user,  # type: ignore[arg-type]
                    name=data["save_as"],
                    subject=data["subject"],
                    body=data["body"],
                    shared=data["template_shared"],
                )
    except ValidationError as error:
        form.add_error(None, error)
        return False
    messages.success(
        request, _("Email to %(to)s queued for sending.") % {"to": ", ".join(data["to"])}
    )
    return True


def _pick_customer(request: HttpRequest) -> HttpResponse:
    text = search_text(request.GET)
    customers = customers_workable_by(request.user)
    results = (
        search_customers(customers, text).order_by("name", "id")[:PICK_RESULTS] if text else []
    )
    return render(request, "integrations/mail/compose_pick.html", {"q": text, "results": results})
