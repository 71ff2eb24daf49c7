"""Mail pages (issue 14): the unfiled sales emails, the original of a message, compose."""

from django.urls import path

from integrations import mail_views

app_name = "mail"

urlpatterns: list = [
    path("<int:pk>/original/", mail_views.original_view, name="original"),
]
