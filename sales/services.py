"""Writes: deals move through stages, quotes become orders."""

import time
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.services import ConcurrentEditError
from sales.models import Deal, DealStageChange, Order, OrderLine, Quote, QuoteLine, Stage
from sales.money import fits, totals
from sales.signals import order_placed


class DealRuleError(Exception):
    """A change the deal's state does not allow; the message says why."""


@transaction.atomic
def deal_create(
    *,
    customer,
    title: str,
    amount: Decimal,
    stage: Stage,
    expected_close_date: date,
    owner,
    created_by,
    probability: int | None = None,
    contact=None,
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
    DealStageChange.objects.create(
        deal=deal, from_stage=None, to_stage=stage, changed_by=created_by
    )
    return deal


def _locked(deal: Deal, expected_version: int | None) -> Deal:
    locked = Deal.objects.select_for_update().select_related("stage").get(pk=deal.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConcurrentEditError(
            _("Someone else saved this deal while you were editing. Your changes were not saved.")
        )
    return locked


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
    moved_by,
    expected_version: int | None = None,
    lost_reason: str = "",
) -> Deal:
    """Put the deal in another stage of its pipeline; the probability follows the stage."""
    deal = _locked(deal, expected_version)
    if stage.pipeline_id != deal.pipeline_id:
        raise DealRuleError(_("That stage belongs to another pipeline."))
    if stage.pk == deal.stage_id:
        return deal
    if deal.status != Deal.Status.OPEN and not (stage.is_won or stage.is_lost):
        raise DealRuleError(_("This deal is closed; reopen it before moving it."))
    previous = deal.stage
    deal.stage = stage
    deal.probability = stage.probability
    if stage.is_lost:
        deal.lost_reason = lost_reason.strip() or deal.lost_reason
    _apply_closing_stage(deal, stage)
    deal.version += 1
    deal.last_activity_at = timezone.now()
    deal.full_clean()
    deal.save()
    DealStageChange.objects.create(
        deal=deal, from_stage=previous, to_stage=stage, changed_by=moved_by
    )
    return deal


@transaction.atomic
def deal_win(*, deal: Deal, won_by, expected_version: int | None = None) -> Deal:
    """Won: the deal goes to the won stage; an accepted quote becomes an order."""
    won_stage = deal.pipeline.stages.filter(is_won=True).order_by("order").first()
    if won_stage is None:
        raise DealRuleError(_("The pipeline has no won stage; ask an administrator to add one."))
    deal = deal_move(deal=deal, stage=won_stage, moved_by=won_by, expected_version=expected_version)
    quote = deal.quotes.filter(status=Quote.Status.ACCEPTED).order_by("-created_at").first()
    if quote is not None and not Order.objects.filter(quote=quote).exists():
        order_from_quote(quote=quote)
    return deal


@transaction.atomic
def deal_lose(*, deal: Deal, reason: str, lost_by, expected_version: int | None = None) -> Deal:
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


def next_number(prefix: str, model) -> str:
    """Q-2026-000042 style numbers, counting per prefix and year."""
    year = timezone.localdate().year
    stem = f"{prefix}-{year}-"
    last = (
        model.objects.filter(number__startswith=stem)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    sequence = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{stem}{sequence:06d}"


def save_with_next_number(instance, *, prefix: str, attempts: int = 5) -> None:
    """Save with the next free number; two users saving at once both get one (unique index)."""
    for attempt in range(attempts):
        instance.number = next_number(prefix, type(instance))
        instance.full_clean(validate_unique=False)
        try:
            with transaction.atomic():
                instance.save()
            return
        except IntegrityError:
            if attempt == attempts - 1:
                raise


LINE_FIELDS = ("product", "description", "quantity", "unit_price", "discount_percent", "tax_rate")

# Which status a quote may go to from each status; an accepted quote is final.
QUOTE_TRANSITIONS = {
    Quote.Status.DRAFT: {Quote.Status.SENT, Quote.Status.ACCEPTED, Quote.Status.REJECTED},
    Quote.Status.SENT: {Quote.Status.ACCEPTED, Quote.Status.REJECTED, Quote.Status.DRAFT},
    Quote.Status.REJECTED: {Quote.Status.DRAFT},
    Quote.Status.ACCEPTED: set(),
}


def _clean_lines(line_class, parent_field: str, parent, lines: list[dict]) -> list:
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
    *, deal: Deal, valid_until: date, created_by, lines: list[dict], notes: str = ""
) -> Quote:
    quote = Quote(
        deal=deal,
        valid_until=valid_until,
        created_by=created_by,
        notes=notes,
        currency=deal.currency,
    )
    built = _clean_lines(QuoteLine, "quote", quote, lines)
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
    notes: str = "",
    expected_version: int | None = None,
) -> Quote:
    """Change a draft quote: its validity, notes, and all its lines (replaced)."""
    quote = Quote.objects.select_for_update().get(pk=quote.pk)
    if expected_version is not None and quote.version != expected_version:
        raise ConcurrentEditError(
            _("Someone else saved this quote while you were editing. Your changes were not saved.")
        )
    if quote.status != Quote.Status.DRAFT:
        raise DealRuleError(_("Only a draft quote can be edited."))
    quote.valid_until = valid_until
    quote.notes = notes
    quote.version += 1
    quote.full_clean()
    built = _clean_lines(QuoteLine, "quote", quote, lines)
    quote.save()
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
    quote.save(update_fields=["status", "version"])
    if (
        status == Quote.Status.ACCEPTED
        and quote.deal.status == Deal.Status.WON
        and not Order.objects.filter(quote=quote).exists()
    ):
        order_from_quote(quote=quote)
    return quote


@transaction.atomic
def order_create(
    *,
    customer,
    ordered_at,
    lines: list[dict],
    channel: str = Order.Channel.SALES,
    coupon_code: str = "",
    currency: str | None = None,
    deal: Deal | None = None,
) -> Order:
    """An order entered by hand; its total is the sum of its lines."""
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
    built = _clean_lines(OrderLine, "order", order, lines)
    order.total = totals(built).total
    save_with_next_number(order, prefix="SO")
    for line in built:
        line.order = order
    OrderLine.objects.bulk_create(built)
    transaction.on_commit(lambda: order_placed.send(sender=Order, order=order))
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
    transaction.on_commit(lambda: order_placed.send(sender=Order, order=order))
    return order


@transaction.atomic
def deal_update(
    *,
    deal: Deal,
    expected_version: int,
    updated_by,
    title: str,
    amount: Decimal,
    stage: Stage,
    expected_close_date: date,
    owner,
    probability: int | None = None,
    contact=None,
    currency: str | None = None,
    next_step=...,
) -> Deal:
    """Save an edit; a changed stage is recorded like a move, an empty probability follows it."""
    deal = _locked(deal, expected_version)
    previous = deal.stage
    if stage.pipeline_id != deal.pipeline_id:
        raise DealRuleError(_("That stage belongs to another pipeline."))
    if stage.pk != previous.pk and (stage.is_closed or deal.status != Deal.Status.OPEN):
        raise DealRuleError(_("Use the Win and Lose actions to close or reopen a deal."))
    deal.title = title
    deal.amount = amount
    deal.expected_close_date = expected_close_date
    deal.owner = owner
    deal.contact = contact
    if next_step is not ...:
        deal.next_step = next_step
    if currency:
        deal.currency = currency
    deal.stage = stage
    if deal.status == Deal.Status.OPEN:
        deal.probability = stage.probability if probability is None else probability
    deal.version += 1
    deal.last_activity_at = timezone.now()
    deal.full_clean()
    deal.save()
    if stage.pk != previous.pk:
        DealStageChange.objects.create(
            deal=deal, from_stage=previous, to_stage=stage, changed_by=updated_by
        )
    return deal


# --- Order import ------------------------------------------------------------------------------
# Bulk and silent: no Order.save(), no order_placed signal per order (analytics reads the orders
# table nightly anyway), no history for the customers it creates. Existing orders are never
# changed: a row whose number is already taken counts as "already present".


class OrderImportRejected(Exception):
    """Some rows are invalid: nothing was written. `report` lists the rows and why."""

    def __init__(self, report):
        super().__init__(f"{report.error_rows} rows have errors; nothing was imported.")
        self.report = report


_STAGE_TABLE = "sales_order_import_stage"
_KNOWN_CHUNK = {"postgresql": 20_000}  # external ids per IN (...) query; 500 elsewhere


def _known_customers(external_ids: set[str], known: dict[str, int]) -> None:
    """Add the ids of the customers with these external ids to `known` (a few IN queries)."""
    from customers.models import Customer

    todo = sorted(external_ids - known.keys())
    size = _KNOWN_CHUNK.get(connection.vendor, 500)
    for start in range(0, len(todo), size):
        rows = Customer.objects.filter(external_id__in=todo[start : start + size]).values_list(
            "external_id", "pk"
        )
        known.update(rows)


def _create_import_customers(external_ids: list[str], owner=None) -> int:
    """Customers for unknown external ids, in bulk: stage customer, source import, name = id."""
    from crm.lib.bulk import bulk_insert
    from customers.models import Customer

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

    def rows():
        for external_id in external_ids:
            row = list(base)
            row[i_name] = external_id[:200]
            row[i_external] = external_id
            yield row

    return bulk_insert(Customer, fields, rows())


def _copy_text(rows) -> str:
    """The rows in COPY's text format, built by joining strings (psycopg's write_row per row
    costs several times more); the rare cell with a tab, newline or backslash is escaped."""
    lines = []
    append = lines.append
    for row in rows:
        line = (
            f"{row.line}\t{row.external_id}\t{row.number}\t{row.ordered_at.isoformat()}\t"
            f"{row.channel}\t{row.total}\t{row.currency}\t{row.coupon_code}"
        )
        if "\\" in line or "\n" in line or "\r" in line or line.count("\t") != 7:
            line = "\t".join(_copy_escape(str(value)) for value in row[:3]) + (
                f"\t{row.ordered_at.isoformat()}\t{row.channel}\t{row.total}\t{row.currency}\t"
                f"{_copy_escape(row.coupon_code)}"
            )
        append(line)
    append("")
    return "\n".join(lines)


def _copy_escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


@transaction.atomic
def order_import(
    *,
    source,
    create_customers: bool = False,
    dry_run: bool = False,
    owner=None,
):
    """Import the orders of the CSV text stream `source`: all of them, or none.

    Rows are validated in chunks as they are read (sales.importing.read_orders). On PostgreSQL
    the valid rows are COPYed into a temporary table, then one INSERT ... SELECT joins the
    customers by external id and skips the numbers already taken (ON CONFLICT DO NOTHING);
    elsewhere batched bulk_create(ignore_conflicts=True). A row whose customer is unknown is an
    error unless `create_customers`, which creates the missing customers first (owned by
    `owner`). Any invalid row: OrderImportRejected and nothing is written. `dry_run` does
    everything, then rolls back, and returns the report with the errors instead of raising.
    """
    from sales.importing import OrderImportReport, read_orders

    report = OrderImportReport(dry_run=dry_run)
    started = time.perf_counter()
    known: dict[str, int] = {}
    missing: dict[str, None] = {}  # unknown external ids, in the file's order
    postgres = connection.vendor == "postgresql"
    staged: list = []  # the rows to write, elsewhere than PostgreSQL
    staged_count = 0
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute(f"DROP TABLE IF EXISTS {_STAGE_TABLE}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {_STAGE_TABLE} (line integer, external_id varchar(100),"
                " number varchar(50), ordered_at timestamptz, channel varchar(10),"
                " total numeric(14, 2), currency varchar(3), coupon_code varchar(50))"
                " ON COMMIT DROP"
            )
        for chunk in read_orders(source, report):
            _known_customers({row.external_id for row in chunk}, known)
            rows = []
            for row in chunk:
                if row.external_id in known:
                    rows.append(row)
                    continue
                if create_customers:
                    missing[row.external_id] = None
                    rows.append(row)
                    continue
                report.unknown_customers.add(row.external_id)
                report.unknown_customer_rows += 1
                report.add_error(
                    row.line,
                    "customer_external_id",
                    _("No customer has the external id “%(id)s”.") % {"id": row.external_id},
                )
            if report.error_rows and not dry_run:
                continue  # keep reading, for the errors of the whole file; write nothing
            if postgres:
                with cursor.cursor.copy(
                    f"COPY {_STAGE_TABLE} (line, external_id, number, ordered_at, channel,"
                    " total, currency, coupon_code) FROM STDIN"
                ) as copy:
                    copy.write(_copy_text(rows))
            else:
                staged.extend(rows)
            staged_count += len(rows)
        if report.error_rows and not dry_run:
            raise OrderImportRejected(report)
        report.timings["read and stage"] = time.perf_counter() - started
        if missing:
            report.customers_created = _create_import_customers(list(missing), owner=owner)
        started = time.perf_counter()
        if postgres:
            cursor.execute(f"ANALYZE {_STAGE_TABLE}")
            cursor.execute(
                "INSERT INTO sales_order (customer_id, number, ordered_at, channel, total,"
                " currency, coupon_code, created_at)"
                " SELECT c.id, s.number, s.ordered_at, s.channel, s.total, s.currency,"
                " s.coupon_code, now()"
                " FROM sales_order_import_stage s JOIN customers_customer c"
                " ON c.external_id = s.external_id AND c.external_id <> ''"
                " ON CONFLICT (number) DO NOTHING"
            )
            report.created = cursor.rowcount
            cursor.execute(f"DROP TABLE {_STAGE_TABLE}")
        else:
            if missing:
                _known_customers(set(missing), known)
            before = Order.objects.count()
            now = timezone.now()
            for start in range(0, len(staged), 2000):
                Order.objects.bulk_create(
                    [
                        Order(
                            customer_id=known[row.external_id],
                            number=row.number,
                            ordered_at=row.ordered_at,
                            channel=row.channel,
                            total=Decimal(row.total),
                            currency=row.currency,
                            coupon_code=row.coupon_code,
                            created_at=now,
                        )
                        for row in staged[start : start + 2000]
                    ],
                    ignore_conflicts=True,
                )
            report.created = Order.objects.count() - before
    report.timings["insert"] = time.perf_counter() - started
    report.already_present = staged_count - report.created
    if dry_run:
        transaction.set_rollback(True)
    return report


def order_import_create(*, user, file_name: str, text: str, row_count: int):
    """Keep an uploaded order file for its preview."""
    from sales.models import OrderImport

    return OrderImport.objects.create(
        user=user, file_name=file_name[:255], text=text, row_count=row_count
    )


@transaction.atomic
def order_import_apply(*, upload, user, create_customers: bool = False):
    """Import a previewed upload (all rows or none): its report; raises OrderImportRejected.

    Customers are created only when asked and the user may create customers; they belong
    to the user.
    """
    import io

    from sales.models import OrderImport

    upload = OrderImport.objects.select_for_update().get(pk=upload.pk)
    if upload.status != OrderImport.Status.PENDING:
        raise DealRuleError(_("This file was already imported or cancelled."))
    report = order_import(
        source=io.StringIO(upload.text, newline=""),
        create_customers=create_customers and user.has_perm("customers.add_customer"),
        owner=user,
    )
    upload.status = OrderImport.Status.APPLIED
    upload.created_count = report.created
    upload.existing_count = report.already_present
    upload.customers_created_count = report.customers_created
    upload.applied_at = timezone.now()
    upload.save()
    return report


@transaction.atomic
def order_import_cancel(*, upload) -> None:
    from sales.models import OrderImport

    OrderImport.objects.filter(pk=upload.pk, status=OrderImport.Status.PENDING).update(
        status=OrderImport.Status.CANCELLED
    )
