"""The agents' service desk (login required)."""

from django.urls import path

from service.views import agent, requester, ticket_page, tickets

app_name = "service"

urlpatterns = [
    path("tickets/", tickets.ticket_list, name="ticket-list"),
    path("tickets/new/", tickets.ticket_create_view, name="ticket-create"),
    path("tickets/bulk/", tickets.ticket_bulk, name="ticket-bulk"),
    path("tickets/<int:pk>/", ticket_page.ticket_detail, name="ticket-detail"),
    path("tickets/<int:pk>/update/", ticket_page.ticket_update_view, name="ticket-update"),
    path("tickets/<int:pk>/reply/", ticket_page.ticket_reply_view, name="ticket-reply"),
    path("tickets/<int:pk>/requester/", requester.ticket_requester, name="ticket-requester"),
    path("tickets/<int:pk>/take/", agent.ticket_take_view, name="ticket-take"),
    path("tickets/<int:pk>/merge/", agent.ticket_merge_view, name="ticket-merge"),
    path("home/queue/", agent.home_queue_panel, name="home-queue-panel"),
    path(
        "customers/<int:pk>/tickets/", tickets.customer_tickets_panel, name="customer-tickets-panel"
    ),
]
