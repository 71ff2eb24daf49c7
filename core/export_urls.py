"""The exports page (crm/urls.py mounts it at /exports/)."""

from django.urls import path

from core import export_views as views

app_name = "core"

urlpatterns = [
    path("", views.exports_page, name="exports"),
    path("<int:pk>/download/", views.export_download, name="export-download"),
]
