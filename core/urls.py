"""Django's account views whose emails go through the outbox; included before
django.contrib.auth.urls (crm/urls.py), so these paths take precedence."""

from django.contrib.auth import views as auth_views
from django.urls import path

from core.forms import OutboxPasswordResetForm

urlpatterns = [
    path(
        "password_reset/",
        auth_views.PasswordResetView.as_view(form_class=OutboxPasswordResetForm),
        name="password_reset",
    ),
]
