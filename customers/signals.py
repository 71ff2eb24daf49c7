"""Signals that downstream apps (sales, service, marketing) listen to in their receivers.py."""

from django.dispatch import Signal

# Sent inside the merge transaction, before the duplicate is deleted.
# kwargs: kept (Customer), duplicate (Customer), merged_by (User). A receiver may answer
# what it moved, {"<app>.<model>": count}: the merge's record (CustomerMerge) keeps it.
customers_merged = Signal()

# Sent inside the erasure transaction (customers.erasure.customer_erase), before the
# customer's own rows are blanked: each app blanks the personal data of its rows of the
# customer (crm.lib.personal_data has the helpers) and returns how many rows it changed.
# kwargs: customer (Customer, values intact), values (frozenset[str]: the customer's
# names, emails, phones, addresses and ids, current and past, to hunt for in free texts),
# erased_by (User | None)
customer_erasing = Signal()
