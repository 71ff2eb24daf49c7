"""The agents' service desk (login required)."""

from django.urls import path

from service.views import tickets

app_name = "service"

urlpatterns = [
    path("tickets/", tickets.ticket_list, name="ticket-list"),
    path("tickets/new/", tickets.ticket_create, name="ticket-create"),
    path("tickets/bulk/", tickets.ticket_bulk, name="ticket-bulk"),
    path("tickets/<int:pk>/", tickets.ticket_detail, name="ticket-detail"),
    path("tickets/<int:pk>/update/", tickets.ticket_update, name="ticket-update"),
    path("tickets/<int:pk>/reply/", tickets.ticket_reply, name="ticket-reply"),
    path(
        "customers/<int:pk>/tickets/", tickets.customer_tickets_panel, name="customer-tickets-panel"
    ),
]
