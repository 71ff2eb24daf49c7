"""The CSV layout customers are exported in and imported from (one layout for both)."""

from customers.models import CONTACT_DETAILS, Customer

COLUMNS = [
    "external_id",
    "name",
    "kind",
    "organization",
    *CONTACT_DETAILS,
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


def customer_row(customer: Customer) -> list[object]:
    """One exported row (crm.lib.csv_export escapes it); owner and tags come prefetched."""
    values = {
        **{column: getattr(customer, column, "") for column in COLUMNS},
        "owner": customer.owner.get_username() if customer.owner else "",
        "tags": TAG_SEPARATOR.join(tag.name for tag in customer.tags.all()),
        "is_key_account": "yes" if customer.is_key_account else "no",
    }
    return [values[column] for column in COLUMNS]
