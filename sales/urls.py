from django.urls import path

from sales.views import board, deals, forecast, imports, orders, quotes, team

app_name = "sales"

urlpatterns: list = [
    path("forecast/", forecast.forecast_view, name="forecast"),
    # Deals and the board (sales/views/deals.py, sales/views/board.py)
    path("deals/", deals.deal_list, name="deal-list"),
    path("deals/new/", deals.deal_create_view, name="deal-create"),
    path("deals/export/", deals.deal_export, name="deal-export"),
    path("deals/<int:pk>/", deals.deal_detail, name="deal-detail"),
    path("deals/<int:pk>/edit/", deals.deal_update_view, name="deal-update"),
    path("deals/<int:pk>/win/", deals.deal_win_view, name="deal-win"),
    path("deals/<int:pk>/lose/", deals.deal_lose_view, name="deal-lose"),
    path("deals/<int:pk>/move/", board.deal_move_view, name="deal-move"),
    path("board/", board.board, name="board"),
    path("customers/<int:pk>/deals/", deals.customer_deals_panel, name="customer-deals-panel"),
    path("panels/pipeline/", deals.home_pipeline_panel, name="home-pipeline-panel"),
    # The manager's team view, quotas, the deal page's quick actions (sales/views/team.py)
    path("panels/team/", team.team_panel, name="home-team-panel"),
    path("quotas/", team.quota_view, name="quotas"),
    path("deals/<int:pk>/next-step/", team.deal_next_step_view, name="deal-next-step"),
    path("deals/<int:pk>/activity/", team.deal_activity_view, name="deal-activity"),
    # Quotes and orders (sales/views/quotes.py, sales/views/orders.py)
    path("deals/<int:deal_pk>/quotes/new/", quotes.quote_create_view, name="quote-create"),
    path("quotes/<int:pk>/", quotes.quote_detail, name="quote-detail"),
    path("quotes/<int:pk>/edit/", quotes.quote_update_view, name="quote-update"),
    path("quotes/<int:pk>/status/", quotes.quote_status_view, name="quote-status"),
    path("quotes/<int:pk>/print/", quotes.quote_print, name="quote-print"),
    path("orders/", orders.order_list, name="order-list"),
    path("orders/new/", orders.order_create_view, name="order-create"),
    path("orders/<int:pk>/", orders.order_detail, name="order-detail"),
    path(
        "customers/<int:customer_pk>/orders/",
        orders.customer_orders_panel,
        name="customer-orders-panel",
    ),
    # Order import (sales/views/imports.py)
    path("orders/import/", imports.order_import_upload, name="order-import"),
    path("orders/import/<int:pk>/", imports.order_import_preview, name="order-import-preview"),
]
