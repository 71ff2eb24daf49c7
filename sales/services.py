"""Writes: deals move through stages, quotes become orders."""

from datetime import date, datetime
from decimal import Decimal
from types import EllipsisType

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.events import event_record
from crm.lib.concurrency import (
    NOT_A_USER_EDIT,
    ExpectedVersion,
    lock_for_update,
    save_new_version,
)
from customers.models import Contact, Customer, Task
from customers.services import customer_mark_buying
from sales.models import Deal, DealStageChange, Order, OrderLine, Quote, QuoteLine, Stage
from sales.money import fits, totals
from sales.notices import deal_assigned_notify, deal_closed_notify
from sales.numbering import save_with_next_number
from sales.selectors import accepted_quote
from sales.signals import order_placed


class DealRuleError(Exception):
    """A change the deal's state does not allow; the message says why."""


@transaction.atomic
def deal_create(
    *,
    customer: Customer,
    title: str,
    amount: Decimal,
    stage: Stage,
    expected_close_date: date,
    owner: User,
    created_by: User,
    probability: int | None = None,
    contact: Contact | None = None,
    currency: str | None = None,
) -> Deal:
    deal = Deal(
        customer=customer,
        contact=contact,
        title=title,
        amount=amount,
        pipeline=stage.pipeline,
        stage=stage,
        probability=stage.probability if probability is None else probability,
        expected_close_date=expected_close_date,
        owner=owner,
    )
    if currency:
        deal.currency = currency
    _apply_closing_stage(deal, stage)
    deal.full_clean()
    deal.save()
    _record_stage_change(deal, None, stage, by=created_by)
    deal_assigned_notify(deal=deal, by=created_by)
    return deal


def _record_stage_change(deal: Deal, previous: Stage | None, stage: Stage, *, by) -> None:
    """The move, with the amount the deal has after it (the timeline tells it as it was)."""
    DealStageChange.objects.create(
        deal=deal,
        from_stage=previous,
        to_stage=stage,
        amount=deal.amount,
        currency=deal.currency,
        changed_by=by,
    )


def _locked(deal: Deal, expected_version: ExpectedVersion) -> Deal:
    return lock_for_update(
        deal,
        expected_version=expected_version,
        conflict_message=_(
            "Someone else saved this deal while you were editing. Your changes were not saved."
        ),
        queryset=Deal.objects.select_related("stage"),
    )


def _apply_closing_stage(deal: Deal, stage: Stage) -> None:
    if stage.is_won:
        deal.status, deal.closed_at, deal.probability = Deal.Status.WON, timezone.now(), 100
    elif stage.is_lost:
        deal.status, deal.closed_at, deal.probability = Deal.Status.LOST, timezone.now(), 0
    else:
        deal.status, deal.closed_at = Deal.Status.OPEN, None


@transaction.atomic
def deal_move(
    *,
    deal: Deal,
    stage: Stage,
    moved_by: User,
    expected_version: ExpectedVersion,
    lost_reason: str = "",
    won_amount: Decimal | None = None,
) -> Deal:
    """Put the deal in another stage of its pipeline; the probability follows the stage.
    A won deal may be given its final amount (the events carry it)."""
    deal = _locked(deal, expected_version)
    if stage.pipeline_id != deal.pipeline_id:
        raise DealRuleError(_("That stage belongs to another pipeline."))
    if stage.pk == deal.stage_id:
        return deal
    if deal.status != Deal.Status.OPEN and not (stage.is_won or stage.is_lost):
        raise DealRuleError(_("This deal is closed; reopen it before moving it."))
    previous, was_open = deal.stage, deal.status == Deal.Status.OPEN
    deal.stage = stage
    deal.probability = stage.probability
    if stage.is_lost:
        deal.lost_reason = lost_reason.strip() or deal.lost_reason
    if stage.is_won and won_amount is not None:
        deal.amount = won_amount
    _apply_closing_stage(deal, stage)
    deal.last_activity_at = timezone.now()
    save_new_version(deal)
    _record_stage_change(deal, previous, stage, by=moved_by)
    _record_move(deal, previous, was_open)
    if was_open and deal.status != Deal.Status.OPEN:
        deal_closed_notify(deal=deal, by=moved_by)
    return deal


def _record_move(deal: Deal, previous: Stage, was_open: bool) -> None:
    """deal.stage_changed, and deal.won / deal.lost when the move closed the deal."""
    data = {
        "customer_id": deal.customer_id,
        "pipeline_id": deal.pipeline_id,
        "from_stage": {"id": previous.pk, "name": previous.name},
        "to_stage": {"id": deal.stage_id, "name": deal.stage.name},
        "status": deal.status,
        "amount": str(deal.amount),
        "currency": deal.currency,
    }
    event_record(type="deal.stage_changed", target=deal, data=data)
    if was_open and deal.status != Deal.Status.OPEN:
        event_record(type=f"deal.{deal.status}", target=deal, data=data)


@transaction.atomic
def deal_win(
    *,
    deal: Deal,
    won_by: User,
    expected_version: ExpectedVersion,
    amount: Decimal | None = None,
) -> Deal:
    """Won, at its final `amount` when given: the deal goes to the won stage; an accepted
    quote becomes an order."""
    won_stage = deal.pipeline.stages.filter(is_won=True).order_by("order").first()
    if won_stage is None:
        raise DealRuleError(_("The pipeline has no won stage; ask an administrator to add one."))
    deal = deal_move(
        deal=deal,
        stage=won_stage,
        moved_by=won_by,
        expected_version=expected_version,
        won_amount=amount,
    )
    quote = accepted_quote(deal)
    if quote is not None and not Order.objects.filter(quote=quote).exists():
        order_from_quote(quote=quote)
    return deal


@transaction.atomic
def deal_drop(
    *, deal: Deal, stage: Stage, moved_by: User, expected_version: ExpectedVersion, reason: str = ""
) -> Deal:
    """A deal put in any stage (a card dropped on the board, the API's move): the won stage
    wins it (its accepted quote becomes an order), a lost stage needs a reason."""
    if stage.is_lost and stage.pk != deal.stage_id and not reason.strip():
        raise DealRuleError(_("Say why the deal was lost: use the Lose action on the deal."))
    if stage.is_won and stage.pipeline_id == deal.pipeline_id and not deal.stage.is_won:
        return deal_win(deal=deal, won_by=moved_by, expected_version=expected_version)
    return deal_move(
        deal=deal,
        stage=stage,
        moved_by=moved_by,
        expected_version=expected_version,
        lost_reason=reason,
    )


@transaction.atomic
def deal_lose(*, deal: Deal, reason: str, lost_by: User, expected_version: ExpectedVersion) -> Deal:
    if not reason.strip():
        raise DealRuleError(_("Say why the deal was lost."))
    lost_stage = deal.pipeline.stages.filter(is_lost=True).order_by("order").first()
    if lost_stage is None:
        raise DealRuleError(_("The pipeline has no lost stage; ask an administrator to add one."))
    return deal_move(
        deal=deal,
        stage=lost_stage,
        moved_by=lost_by,
        expected_version=expected_version,
        lost_reason=reason,
    )


def _order_keys(order: Order) -> dict:
    return {
        "number": order.number,
        "customer_id": order.customer_id,
        "deal_id": order.deal_id,
        "ordered_at": order.ordered_at.isoformat(),
        "channel": order.channel,
        "total": str(order.total),
        "currency": order.currency,
    }


LINE_FIELDS = ("product", "description", "quantity", "unit_price", "discount_percent", "tax_rate")

# Which status a quote may go to from each status; an accepted quote is final.
# Keyed by the stored status (a str); Quote.Status members are equal to their values.
QUOTE_TRANSITIONS: dict[str, set[str]] = {
    Quote.Status.DRAFT: {Quote.Status.SENT, Quote.Status.ACCEPTED, Quote.Status.REJECTED},
    Quote.Status.SENT: {Quote.Status.ACCEPTED, Quote.Status.REJECTED, Quote.Status.DRAFT},
    Quote.Status.REJECTED: {Quote.Status.DRAFT},
    Quote.Status.ACCEPTED: set(),
}


def clean_lines(line_class, parent_field: str, parent, lines: list[dict]) -> list:
    """Line instances for `lines` (dicts of LINE_FIELDS), validated, with amounts that fit."""
    if not lines:
        raise ValidationError(_("Add at least one line."))
    built = []
    for position, data in enumerate(lines):
        values = {name: data[name] for name in LINE_FIELDS if name in data}
        line = line_class(**{parent_field: parent}, **values)
        if hasattr(line, "position"):
            line.position = position
        line.full_clean(exclude=[parent_field])
        if not fits(line.total):
            raise ValidationError(
                _("Line %(number)s is too large: its total exceeds %(limit)s.")
                % {"number": position + 1, "limit": "999,999,999,999.99"}
            )
        built.append(line)
    if not fits(totals(built).total):
        raise ValidationError(
            _("The total exceeds %(limit)s; split it into several documents.")
            % {"limit": "999,999,999,999.99"}
        )
    return built


@transaction.atomic
def quote_create(
    *, deal: Deal, valid_until: date, created_by: User, lines: list[dict], notes: str = ""
) -> Quote:
    quote = Quote(
        deal=deal,
        valid_until=valid_until,
        created_by=created_by,
        notes=notes,
        currency=deal.currency,
    )
    built = clean_lines(QuoteLine, "quote", quote, lines)
    save_with_next_number(quote, prefix="Q")
    for line in built:
        line.quote = quote
    QuoteLine.objects.bulk_create(built)
    return quote


@transaction.atomic
def quote_update(
    *,
    quote: Quote,
    valid_until: date,
    lines: list[dict],
    expected_version: ExpectedVersion,
    notes: str = "",
) -> Quote:
    """Change a draft quote: its validity, notes, and all its lines (replaced)."""
    quote = lock_for_update(
        quote,
        expected_version=expected_version,
        conflict_message=_(
            "Someone else saved this quote while you were editing. Your changes were not saved."
        ),
    )
    if quote.status != Quote.Status.DRAFT:
        raise DealRuleError(_("Only a draft quote can be edited."))
    quote.valid_until = valid_until
    quote.notes = notes
    built = clean_lines(QuoteLine, "quote", quote, lines)
    save_new_version(quote)
    quote.lines.all().delete()
    QuoteLine.objects.bulk_create(built)
    return quote


@transaction.atomic
def quote_set_status(*, quote: Quote, status: str) -> Quote:
    """Move a quote through draft, sent, accepted, rejected.

    Accepting a quote of a deal that is already won creates the order at once (winning
    the deal later does it otherwise, in deal_win).
    """
    quote = Quote.objects.select_for_update().select_related("deal").get(pk=quote.pk)
    if status not in Quote.Status.values:
        raise DealRuleError(_("Unknown quote status."))
    if quote.status == status:
        return quote
    if quote.status == Quote.Status.ACCEPTED:
        raise DealRuleError(_("An accepted quote cannot change its status."))
    if status not in QUOTE_TRANSITIONS[quote.status]:
        raise DealRuleError(
            _("A %(current)s quote cannot become %(new)s.")
            % {"current": quote.get_status_display(), "new": Quote.Status(status).label}
        )
    if status == Quote.Status.ACCEPTED:
        if quote.deal.status == Deal.Status.LOST:
            raise DealRuleError(_("The deal is lost; reopen it before accepting a quote."))
        if quote.deal.quotes.filter(status=Quote.Status.ACCEPTED).exclude(pk=quote.pk).exists():
            raise DealRuleError(_("Another quote of this deal is already accepted."))
    quote.status = status
    quote.version += 1
    if status == Quote.Status.SENT:
        quote.sent_at = timezone.now()
    if status == Quote.Status.ACCEPTED:
        quote.accepted_at = timezone.now()
    quote.save(update_fields=["status", "version", "sent_at", "accepted_at"])
    if status == Quote.Status.ACCEPTED:
        _deal_amount_from_quote(quote)
    if (
        status == Quote.Status.ACCEPTED
        and quote.deal.status == Deal.Status.WON
        and not Order.objects.filter(quote=quote).exists()
    ):
        order_from_quote(quote=quote)
    return quote


def _deal_amount_from_quote(quote: Quote) -> None:
    """An accepted quote sets its deal's amount (issue 16: deal and quote stay in step); the
    page asked to confirm when they differ."""
    total = totals(quote.lines.all()).total
    deal = quote.deal
    if (deal.amount, deal.currency) == (total, quote.currency):
        return
    deal = _locked(deal, NOT_A_USER_EDIT)
    deal.amount, deal.currency = total, quote.currency
    save_new_version(deal)


@transaction.atomic
def order_create(
    *,
    customer: Customer,
    ordered_at: datetime,
    lines: list[dict],
    channel: str = Order.Channel.SALES,
    coupon_code: str = "",
    currency: str | None = None,
    deal: Deal | None = None,
    number: str = "",
) -> Order:
    """An order entered by hand or by another system (which gives its own `number`; the
    CRM numbers the others); its total is the sum of its lines."""
    order = Order(
        customer=customer,
        ordered_at=ordered_at,
        channel=channel,
        coupon_code=coupon_code.strip(),
        deal=deal,
        total=0,
    )
    if currency:
        order.currency = currency
    built = clean_lines(OrderLine, "order", order, lines)
    order.total = totals(built).total
    if number:
        order.number = number
        # The unique constraint decides, in the database (two requests may race).
        order.full_clean(validate_unique=False, validate_constraints=False)
        order.save()
    else:
        save_with_next_number(order, prefix="SO")
    for line in built:
        line.order = order
    OrderLine.objects.bulk_create(built)
    customer_mark_buying(customer=customer)
    transaction.on_commit(lambda: order_placed.send(sender=Order, order=order))
    event_record(type="order.created", target=order, data=_order_keys(order))
    return order


@transaction.atomic
def order_from_quote(*, quote: Quote) -> Order:
    """The order of an accepted quote of a won deal, with the quote's lines."""
    lines = list(quote.lines.all())
    order = Order(
        customer=quote.deal.customer,
        ordered_at=timezone.now(),
        channel=Order.Channel.SALES,
        total=totals(lines).total,
        currency=quote.currency,
        deal=quote.deal,
        quote=quote,
    )
    save_with_next_number(order, prefix="SO")
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            product=line.product,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount_percent=line.discount_percent,
            tax_rate=line.tax_rate,
        )
        for line in lines
    )
    customer_mark_buying(customer=order.customer)
    transaction.on_commit(lambda: order_placed.send(sender=Order, order=order))
    event_record(type="order.created", target=order, data=_order_keys(order))
    return order


@transaction.atomic
def deal_update(
    *,
    deal: Deal,
    expected_version: ExpectedVersion,
    updated_by: User,
    title: str,
    amount: Decimal,
    stage: Stage,
    expected_close_date: date,
    owner: User,
    probability: int | None = None,
    contact: Contact | None = None,
    currency: str | None = None,
    next_step: Task | None | EllipsisType = ...,
) -> Deal:
    """Save an edit; a changed stage is recorded like a move, an empty probability follows it."""
    deal = _locked(deal, expected_version)
    previous = deal.stage
    if stage.pipeline_id != deal.pipeline_id:
        raise DealRuleError(_("That stage belongs to another pipeline."))
    if stage.pk != previous.pk and (stage.is_closed or deal.status != Deal.Status.OPEN):
        raise DealRuleError(_("Use the Win and Lose actions to close or reopen a deal."))
    deal.title, deal.amount, deal.expected_close_date = title, amount, expected_close_date
    owner_changed, deal.owner = owner.pk != deal.owner_id, owner
    deal.contact = contact
    if next_step is not ...:
        deal.next_step = next_step
    if currency:
        deal.currency = currency
    deal.stage = stage
    if deal.status == Deal.Status.OPEN:
        deal.probability = stage.probability if probability is None else probability
    deal.last_activity_at = timezone.now()
    save_new_version(deal)
    if stage.pk != previous.pk:
        _record_stage_change(deal, previous, stage, by=updated_by)
    if owner_changed:
        deal_assigned_notify(deal=deal, by=updated_by)
    return deal
