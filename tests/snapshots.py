"""A digest of every row of the product's tables, to show that a request changed nothing.

Hostile-input sweeps take one before and one after the requests of a role without rights
and assert equality: a refused write must leave no row, no history record and no version
bump behind. The digest is per table, so a failure names the table that changed.
"""

import hashlib

from django.apps import apps

PRODUCT_APPS = ("auth", "customers", "sales", "service", "analytics", "marketing")


def database_digest(app_labels: tuple[str, ...] = PRODUCT_APPS) -> dict[str, str]:
    """{table: sha256 of its rows in primary-key order} for every model of `app_labels`."""
    digest = {}
    for label in app_labels:
        for model in apps.get_app_config(label).get_models():
            rows = model._base_manager.order_by("pk").values_list()
            text = "\n".join(repr(row) for row in rows)
            digest[model._meta.db_table] = hashlib.sha256(text.encode()).hexdigest()
    return digest


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(
        table for table in before.keys() | after.keys() if before.get(table) != after.get(table)
    )
