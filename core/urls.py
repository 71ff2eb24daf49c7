"""Account views of our own; included before django.contrib.auth.urls (crm/urls.py), so these
paths take precedence: the password reset (email through the outbox, rate limited) and the
two-factor pages, and the API tokens page."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from core import profile_views, token_views, views

urlpatterns = [
    path(
        "password_reset/",
        login_not_required(views.ThrottledPasswordResetView.as_view()),
        name="password_reset",
    ),
    path("two-factor/", views.two_factor_account, name="two-factor"),
    path("two-factor/verify/", views.two_factor_verify, name="two-factor-verify"),
    path("profile/", profile_views.profile_edit, name="profile"),
    path("api-tokens/", token_views.api_tokens, name="api-tokens"),
    path(
        "api-tokens/<int:pk>/revoke/",
        token_views.api_token_revoke_view,
        name="api-token-revoke",
    ),
]
