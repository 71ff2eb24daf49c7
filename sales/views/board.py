"""The Kanban board: a column per stage; dragging a card moves the deal."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exchange import RateBook
from crm.lib.concurrency import ConcurrentEditError, form_after_conflict
from crm.lib.http import AuthenticatedHttpRequest
from crm.lib.params import parse_id
from sales.forms import BoardMoveForm
from sales.models import Deal, Pipeline
from sales.selectors import (
    BOARD_CARDS_PER_COLUMN,
    BOARD_CLOSED_DAYS,
    DealScope,
    board_columns,
    board_totals,
    can_change_deal,
    deal_owners,
    deal_scope,
    deals_visible_to,
    default_pipeline,
    pipeline_stages,
    with_stale_flag,
)
from sales.services import DealRuleError, deal_drop

ALL, MINE = "all", "mine"


def _owner_choice(user: User, raw: str) -> str:
    """ "all", "mine" or a user id; reps default to their own deals, managers to all."""
    can_see_all = user.has_perm("sales.view_any_deal")
    if not can_see_all:
        return MINE  # reps see only their own deals anyway
    if raw in (ALL, MINE):
        return raw
    owner_id = parse_id(raw)
    return ALL if owner_id is None else str(owner_id)


def _board_scope(user: User, owner: str) -> DealScope:
    """The deals the user sees, narrowed to the owner chosen."""
    scope = deal_scope(user)
    if owner == MINE:
        return scope.owned_by(user)
    if owner != ALL:
        return scope.owned_by(int(owner))  # a clean id from _owner_choice
    return scope


@dataclass(frozen=True)
class BoardCard:
    """A deal on the board, with what its card shows besides the deal's own fields."""

    deal: Deal
    age_days: int
    next_step_overdue: bool
    movable: bool  # the user may drag it
    # The amount in the reporting currency (what the column adds), None without a rate.
    converted: Decimal | None
    reporting: str

    @property
    def shown(self) -> tuple:
        """Every value the card's template (sales/partials/board_card.html) shows: the key
        it is kept rendered under. A value the card shows must be named here."""
        deal, next_step = self.deal, self.deal.next_step
        return (
            deal.pk, deal.version, deal.title, deal.customer.name, deal.amount, deal.currency,
            deal.owner.get_username() if deal.owner else "", self.age_days,
            self.next_step_overdue, next_step.title if next_step else "",
            getattr(deal, "is_stale", False), self.movable, self.converted, self.reporting,
        )  # fmt: skip


def _card(user: User, deal: Deal, today: date, book: RateBook) -> BoardCard:
    """`book` holds the rates of the board's currencies (RateBook.load, one query); a deal
    converts as the column totals do: open at today's rate, closed at its close date's."""
    next_step = deal.next_step
    day = timezone.localdate(deal.closed_at) if deal.closed_at else today
    return BoardCard(
        deal=deal,
        age_days=(today - timezone.localtime(deal.created_at).date()).days,
        next_step_overdue=bool(
            next_step is not None and not next_step.done and next_step.due_date < today
        ),
        movable=deal.status == Deal.Status.OPEN and can_change_deal(user, deal),
        converted=book.convert(deal.amount, deal.currency, day),
        reporting=settings.CRM_CURRENCY,
    )


@permission_required("sales.view_deal", raise_exception=True)
def board(request: AuthenticatedHttpRequest) -> HttpResponse:
    pipeline_id = parse_id(request.GET.get("pipeline"))
    pipeline: Pipeline | None
    if pipeline_id is not None:
        pipeline = get_object_or_404(Pipeline, pk=pipeline_id)
    else:
        pipeline = default_pipeline()
    owner = _owner_choice(request.user, request.GET.get("owner", ""))
    context: dict[str, Any] = {
        "pipeline": pipeline,
        "pipelines": Pipeline.objects.all(),
        "owner": owner,
        "can_see_all": request.user.has_perm("sales.view_any_deal"),
        "closed_days": BOARD_CLOSED_DAYS,
        "cards_per_column": BOARD_CARDS_PER_COLUMN,
        "currency": settings.CRM_CURRENCY,
        "columns": [],
    }
    if pipeline is not None:
        columns = board_columns(_board_scope(request.user, owner), pipeline)
        today = timezone.localdate()
        book = RateBook.load({deal.currency for column in columns for deal in column["cards"]})
        for column in columns:
            # The deals stay in "cards"; what each card shows besides them is in "board_cards".
            column["board_cards"] = [
                _card(request.user, deal, today, book) for deal in column["cards"]
            ]
        context["columns"] = columns
        if context["can_see_all"]:
            context["owners"] = deal_owners()
    return render(request, "sales/board.html", context)


def _refused(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@require_POST
def deal_move_view(request: AuthenticatedHttpRequest, pk: int) -> JsonResponse:
    """Move a dragged card; a refusal answers 4xx with a message and the card snaps back."""
    user = request.user
    if not user.has_perm("sales.view_deal"):
        return _refused(_("You may not work on deals."), 403)
    deal = deals_visible_to(user).select_related("stage").filter(pk=pk).first()
    if deal is None:
        return _refused(_("That deal does not exist or is not yours."), 404)
    if not can_change_deal(user, deal):
        return _refused(_("You may not change this deal."), 403)
    form = BoardMoveForm(request.POST, deal=deal)
    form.is_valid()  # a bad version is a missing one: the service refuses it as a conflict
    stage = form.cleaned_data.get("stage")
    if stage is None:
        return _refused(_("That stage does not exist."), 400)
    version = form.cleaned_data.get("version")
    reason = request.POST.get("lost_reason", "").strip()
    if "\x00" in reason or len(reason) > 300:
        return _refused(_("Give a shorter reason without special characters."), 400)
    try:
        deal = deal_drop(
            deal=deal, stage=stage, moved_by=user, expected_version=version, reason=reason
        )
    except ConcurrentEditError as error:
        _form, conflicts = form_after_conflict(
            error,
            posted=request.POST,
            bind=lambda data, current: BoardMoveForm(data, deal=current),
        )
        message = str(error) + " " + _("Reload the pipeline to see it.")
        return JsonResponse({"error": message, "conflicts": conflicts}, status=409)
    except DealRuleError as error:
        return _refused(str(error), 400)
    except ValidationError as error:
        return _refused(" ".join(error.messages), 400)
    return JsonResponse(_moved_payload(request, user, deal))


def _moved_payload(request: HttpRequest, user: User, deal: Deal) -> dict[str, Any]:
    """The moved card and every column header of its pipeline, rendered again."""
    owner = _owner_choice(user, request.POST.get("owner", ""))
    deal = with_stale_flag(
        Deal.objects.select_related("customer", "owner", "next_step", "stage")
    ).get(pk=deal.pk)
    totals = board_totals(_board_scope(user, owner), deal.pipeline)
    today = timezone.localdate()
    moved = _card(user, deal, today, RateBook.load([deal.currency]))
    columns = {}
    for stage in pipeline_stages(deal.pipeline):
        column = {"stage": stage, "count": 0, "total": 0, "missing": {}, **totals.get(stage.pk, {})}
        columns[str(stage.pk)] = render_to_string(
            "sales/partials/board_column_header.html",
            {"column": column, "currency": settings.CRM_CURRENCY},
            request=request,
        )
    card = render_to_string(
        "sales/partials/board_card.html", {"card": moved, "deal": deal}, request=request
    )
    message = _("“%(title)s” moved to %(stage)s.") % {"title": deal.title, "stage": deal.stage}
    return {"card": card, "columns": columns, "message": message}
