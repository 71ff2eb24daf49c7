"""Writing exchange rates: one at a time (the admin) or a CSV of `date,currency,rate`.

Every write ends in `exchange_rates_changed(changes={currency: first day changed})`, sent
after the commit, so the apps that store converted amounts (sales: Order.total_reporting)
convert again what the new rates cover; core imports none of them.
"""

import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import Signal
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.models import ExchangeRate
from crm.lib.csv_import import Column, CsvReader, Layout, detect_delimiter
from crm.lib.currencies import normalize_currency
from crm.lib.uploads import decode_upload

exchange_rates_changed = Signal()  # changes: dict[str, date], the first day of each currency

RATE_MAX = Decimal("9999999999")  # what the column holds: 20 digits, 10 of them decimals
MAX_ROWS = 100_000

LAYOUT = Layout(
    names=["date", "currency", "rate"],
    required=["date", "currency", "rate"],
    missing_columns=gettext_lazy(
        "The file needs the columns date, currency and rate; it has no %(columns)s column."
    ),
    no_rows=gettext_lazy("The file has a header but no rates."),
    max_rows=MAX_ROWS,
)


def _clean_day(value: str) -> date:
    try:
        day = date.fromisoformat(value) if value.isascii() else None
    except ValueError:
        day = None
    if day is None or not 1900 <= day.year <= 2200:
        raise ValidationError(
            _("“%(value)s” is not a date like 2026-01-31.") % {"value": Truncator(value).chars(20)}
        )
    return day


def _clean_currency(value: str) -> str:
    try:
        return normalize_currency(value)
    except ValidationError as error:
        raise ValidationError(error.messages[0]) from error


def _clean_rate(value: str) -> Decimal:
    try:
        rate = Decimal(value) if value.isascii() else None
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite() or not 0 < rate <= RATE_MAX:
        raise ValidationError(
            _("“%(value)s” is not a positive rate like 1.0845.")
            % {"value": Truncator(value).chars(20)}
        )
    return rate.quantize(Decimal("1E-10"))


COLUMNS = [
    Column("date", _clean_day),
    Column("currency", _clean_currency),
    Column("rate", _clean_rate),
]


@dataclass
class RateFile:
    rates: dict[tuple[str, date], Decimal] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # "Line 3: ..." per bad row


def read_rates(data: bytes) -> RateFile:
    """The rates of an uploaded CSV and the errors of its rows; ImportFileError for a file
    that cannot be read at all (binary, wrong encoding, no header)."""
    text = decode_upload(data)
    reader = CsvReader(io.StringIO(text, newline=""), LAYOUT, delimiter=detect_delimiter(text))
    validate = reader.validator(COLUMNS)
    result = RateFile()
    for line, cells, _stray in reader:
        values, errors = validate(cells)
        if errors:
            messages = "; ".join(f"{name}: {message}" for name, message in errors)
            result.errors.append(
                _("Line %(line)d: %(errors)s") % {"line": line, "errors": messages}
            )
        else:
            day, currency, rate = values
            result.rates[(currency, day)] = rate
    return result


@transaction.atomic
def exchange_rates_save(*, rates: dict[tuple[str, date], Decimal]) -> int:
    """Add or replace rates (currency, day) -> rate in one statement; returns how many."""
    rows = [ExchangeRate(currency=c, day=d, rate=r) for (c, d), r in rates.items()]
    for row in rows:
        row.full_clean(exclude=["created_at"], validate_unique=False, validate_constraints=False)
    ExchangeRate.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["currency", "day"], update_fields=["rate"]
    )
    changes: dict[str, date] = {}
    for currency, day in rates:
        changes[currency] = min(day, changes.get(currency, day))
    announce_rates_changed(changes)
    return len(rows)


def announce_rates_changed(changes: dict[str, date]) -> None:
    """Tell the apps, once the transaction commits, which currencies changed from which day."""
    if changes:
        transaction.on_commit(
            lambda: exchange_rates_changed.send(sender=ExchangeRate, changes=dict(changes))
        )
