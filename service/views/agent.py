"""An agent's day: the home panel, "Take it" and merging two tickets about one problem."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from crm.lib.concurrency import ConcurrentEditError
from crm.lib.forms import VersionField
from crm.lib.http import AuthenticatedHttpRequest, safe_next_url
from crm.lib.params import MAX_ID, BoundedModelChoiceField
from service.agent_home import agent_queue_summary
from service.models import Ticket
from service.selectors import tickets_workable_by
from service.ticket_actions import may_merge, ticket_merge, ticket_take
from service.views.display import relative


class TakeForm(forms.Form):
    version = VersionField(required=False)  # absent from the queue's buttons


def _workable(request: HttpRequest, pk: int) -> Ticket:
    if pk > MAX_ID:
        raise Http404
    return get_object_or_404(tickets_workable_by(request.user).select_related("team"), pk=pk)


@permission_required("service.work_ticket", raise_exception=True)
def home_queue_panel(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, HOME_QUEUE_PANEL, home_queue_context(request, None))


HOME_QUEUE_PANEL = "service/partials/home_queue_panel.html"


def home_queue_context(request, _page_object=None) -> dict:
    now = timezone.now()
    summary = agent_queue_summary(request.user, now)
    for ticket in summary["breaching_tickets"]:
        ticket.due_text = relative(ticket.next_due, now)
    return {"summary": summary}


@permission_required("service.work_ticket", raise_exception=True)
@require_POST
def ticket_take_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    ticket = _workable(request, pk)
    back = safe_next_url(request, ticket.get_absolute_url())
    form = TakeForm(request.POST)
    version = form.cleaned_data["version"] if form.is_valid() else None
    try:
        ticket_take(ticket=ticket, user=request.user, expected_version=version)
    except (ValidationError, ConcurrentEditError) as error:
        text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        messages.error(request, text)
    else:
        messages.success(request, _("%(number)s is yours.") % {"number": ticket.number})
    return redirect(back)


class TicketChoiceField(BoundedModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.number} {obj.subject}"


class MergeForm(forms.Form):
    """The ticket that keeps the conversation (A), among the same customer's open tickets."""

    target = TicketChoiceField(
        label=gettext_lazy("Merge into"),
        queryset=Ticket.objects.none(),
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": gettext_lazy("Choose one of the tickets listed.")},
    )

    def __init__(self, *args, candidates, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        target = self.fields["target"]
        assert isinstance(target, forms.ModelChoiceField)  # as declared above
        target.queryset = candidates


def merge_candidates(request: HttpRequest, source: Ticket):
    """Open tickets of the same customer (or requester) the user may work, other than B."""
    tickets = tickets_workable_by(request.user).filter(
        status__in=Ticket.OPEN_STATUSES, merged_into__isnull=True
    )
    if source.customer_id is not None:
        tickets = tickets.filter(customer_id=source.customer_id)
    else:
        tickets = tickets.filter(
            customer__isnull=True, requester_email__iexact=source.requester_email
        )
    return tickets.exclude(pk=source.pk).select_related("team").order_by("created_at", "pk")[:50]


@permission_required("service.work_ticket", raise_exception=True)
@require_http_methods(["GET", "POST"])
def ticket_merge_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    source = _workable(request, pk)
    if not may_merge(request.user, source):
        raise PermissionDenied
    candidates = [t for t in merge_candidates(request, source) if may_merge(request.user, t)]
    queryset = Ticket.objects.filter(pk__in=[t.pk for t in candidates])
    form = MergeForm(request.POST or None, candidates=queryset)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            target = ticket_merge(
                source=source, target=form.cleaned_data["target"], user=request.user
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("%(source)s was merged into %(target)s.")
                % {"source": source.number, "target": target.number},
            )
            return redirect(target)
    if request.method == "POST":
        status = 422
    context = {"ticket": source, "form": form, "candidates": candidates}
    return render(request, "service/ticket_merge.html", context, status=status)
