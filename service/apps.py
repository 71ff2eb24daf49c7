from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = _("Service")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from crm.lib.personal_data import DataSection, register_data_section
        from service import receivers  # noqa: F401 - connects the signal receivers
        from service.attachment_rules import register_service_attachments
        from service.erasure import service_data_of, service_files_of
        from service.knowledge_models import (
            ArticleTranslation,
            CategoryTranslation,
            KnowledgeArticle,
            forget_category_names,
            forget_suggestions,
        )
        from service.panels import register_service_panels
        from service.search import register_ticket_search
        from service.timeline import register_service_timeline

        for signal in (post_save, post_delete):
            signal.connect(forget_category_names, sender=CategoryTranslation)
            for model in (KnowledgeArticle, ArticleTranslation):
                signal.connect(forget_suggestions, sender=model)
        register_service_panels()
        register_service_timeline()
        register_ticket_search()
        register_service_attachments()
        register_data_section(
            DataSection("service", collect=service_data_of, files=service_files_of)
        )
