"""Signals that downstream apps (analytics, marketing) listen to in their receivers.py."""

from django.dispatch import Signal

# Sent after commit when an order exists: kwargs order (Order).
order_placed = Signal()
# Sent after commit when an import added orders, with kwargs first_id and last_id: the
# new orders' id range (which may also hold orders others created meanwhile; receivers
# must be idempotent per order).
orders_imported = Signal()
