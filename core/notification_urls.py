"""The notifications list and preferences (crm/urls.py mounts them at /notifications/)."""

from django.urls import path

from core import notification_views as views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("badge/", views.notification_badge, name="badge"),
    path("read-all/", views.notification_read_all, name="read-all"),
    path("<int:pk>/open/", views.notification_open, name="open"),
    path("<int:pk>/read/", views.notification_read, name="read"),
    path("preferences/", views.notification_preferences, name="preferences"),
]
