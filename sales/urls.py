from django.urls import path  # noqa: F401 - each area below adds its paths

app_name = "sales"

urlpatterns: list = [
    # Deals and the board (sales/views/deals.py, sales/views/board.py)
    # Quotes and orders (sales/views/quotes.py, sales/views/orders.py)
    # Order import (sales/views/imports.py)
]
