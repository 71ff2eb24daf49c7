"""Self-service at /help/: public, no login (views are marked login_not_required)."""

from django.urls import path

app_name = "help"

urlpatterns: list = []
