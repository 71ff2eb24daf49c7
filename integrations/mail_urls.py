"""Mail pages (issue 14): the unfiled sales emails, the original of a message, compose."""

from django.urls import path

from integrations import compose_views, unfiled_views

app_name = "mail"

urlpatterns: list = [
    path("unfiled/", unfiled_views.unfiled_list, name="unfiled-list"),
    path("unfiled/<int:pk>/file/", unfiled_views.unfiled_file_view, name="unfiled-file"),
    path("unfiled/<int:pk>/discard/", unfiled_views.unfiled_discard_view, name="unfiled-discard"),
    path("compose/", compose_views.compose, name="compose"),
]
