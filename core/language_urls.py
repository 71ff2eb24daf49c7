"""The language switcher (crm/urls.py mounts it at /i18n/): Django's set_language, which
also keeps a signed-in user's choice in their profile (core.profile_views)."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from core.profile_views import language_switch

urlpatterns = [
    path("setlang/", login_not_required(language_switch), name="set_language"),
]
