"""The agents' service desk (login required)."""

from django.urls import path

from service.views import agent, macros, reply, requester, ticket_page, tickets

app_name = "service"

urlpatterns = [
    path("tickets/", tickets.ticket_list, name="ticket-list"),
    path("tickets/new/", tickets.ticket_create_view, name="ticket-create"),
    path("tickets/bulk/", tickets.ticket_bulk, name="ticket-bulk"),
    path("tickets/<int:pk>/", ticket_page.ticket_detail, name="ticket-detail"),
    path("tickets/<int:pk>/update/", ticket_page.ticket_update_view, name="ticket-update"),
    path("tickets/<int:pk>/reply/", reply.ticket_reply_view, name="ticket-reply"),
    path("tickets/<int:pk>/draft/", reply.ticket_draft_view, name="ticket-draft"),
    path("tickets/<int:pk>/macros/", reply.macro_picker, name="ticket-macros"),
    path("tickets/<int:pk>/macro/", reply.macro_apply, name="ticket-macro-apply"),
    path("macros/", macros.macro_list, name="macro-list"),
    path("macros/new/", macros.macro_create, name="macro-create"),
    path("macros/<int:pk>/", macros.macro_edit, name="macro-edit"),
    path("macros/<int:pk>/delete/", macros.macro_delete_view, name="macro-delete"),
    path("tickets/<int:pk>/requester/", requester.ticket_requester, name="ticket-requester"),
    path("tickets/<int:pk>/take/", agent.ticket_take_view, name="ticket-take"),
    path("tickets/<int:pk>/merge/", agent.ticket_merge_view, name="ticket-merge"),
    path("home/queue/", agent.home_queue_panel, name="home-queue-panel"),
    path(
        "customers/<int:pk>/tickets/", tickets.customer_tickets_panel, name="customer-tickets-panel"
    ),
]
