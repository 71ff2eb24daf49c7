"""The CSV layout customers are exported in and imported from (one layout for both)."""

from customers.models import Customer

COLUMNS = [
    "external_id",
    "name",
    "kind",
    "organization",
    "email",
    "phone",
    "country",
    "region",
    "city",
    "address",
    "industry",
    "company_size",
    "source",
    "stage",
    "owner",
    "tags",
    "is_key_account",
    "preferred_channel",
]
TAG_SEPARATOR = ";"
# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_PREFIXES):
        return "'" + text
    return text


def customer_row(customer: Customer) -> list[str]:
    """One exported row; `customer` comes with owner and tags prefetched."""
    values = {
        **{column: getattr(customer, column, "") for column in COLUMNS},
        "owner": customer.owner.get_username() if customer.owner else "",
        "tags": TAG_SEPARATOR.join(tag.name for tag in customer.tags.all()),
        "is_key_account": "yes" if customer.is_key_account else "no",
    }
    return [safe_cell(values[column]) for column in COLUMNS]
