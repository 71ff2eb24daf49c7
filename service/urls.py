"""The agents' service desk (login required)."""

from django.urls import path

app_name = "service"

urlpatterns: list = []
