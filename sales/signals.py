"""Signals that downstream apps (analytics, marketing) listen to in their receivers.py."""

from django.dispatch import Signal

# Sent after commit when an order exists: kwargs order (Order).
order_placed = Signal()
