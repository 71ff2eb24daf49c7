"""Mail pages (issue 14): the unfiled sales emails, the original of a message, compose."""

from django.urls import path

from integrations import compose_views, mail_views, template_views, unfiled_views

app_name = "mail"

urlpatterns: list = [
    path("<int:pk>/original/", mail_views.original_view, name="original"),
    path("unfiled/", unfiled_views.unfiled_list, name="unfiled-list"),
    path("unfiled/badge/", unfiled_views.unfiled_badge, name="unfiled-badge"),
    path("unfiled/<int:pk>/file/", unfiled_views.unfiled_file_view, name="unfiled-file"),
    path("unfiled/<int:pk>/discard/", unfiled_views.unfiled_discard_view, name="unfiled-discard"),
    path("compose/", compose_views.compose, name="compose"),
    path("templates/", template_views.template_list, name="template-list"),
    path("templates/new/", template_views.template_edit, name="template-create"),
    path("templates/<int:pk>/", template_views.template_edit, name="template-edit"),
    path("templates/<int:pk>/delete/", template_views.template_delete, name="template-delete"),
]
