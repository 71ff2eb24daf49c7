from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = _("Service")

    def ready(self):
        from core.attachments import register_attachment_owner
        from crm.lib.personal_data import DataSection, register_data_section
        from service import receivers  # noqa: F401 - connects the signal receivers
        from service.erasure import service_data_of
        from service.models import Ticket, TicketMessage
        from service.panels import register_service_panels
        from service.search import register_ticket_search
        from service.selectors import can_see_message_files, can_see_ticket

        register_service_panels()
        register_ticket_search()
        register_data_section(DataSection("service", collect=service_data_of))
        # A ticket's files (from email, the help form, agents' replies) are as visible as the
        # ticket; an internal note's only to those who may read notes.
        register_attachment_owner(Ticket, can_view=can_see_ticket)
        register_attachment_owner(TicketMessage, can_view=can_see_message_files)
