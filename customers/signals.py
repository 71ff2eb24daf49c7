"""Signals that downstream apps (sales, service, marketing) listen to in their receivers.py."""

from django.dispatch import Signal

# Sent inside the merge transaction, before the duplicate is deleted.
# kwargs: kept (Customer), duplicate (Customer), merged_by (User)
customers_merged = Signal()
