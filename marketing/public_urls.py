"""Public pages at /m/ reached from messages' signed links (views are login_not_required)."""

from django.urls import path

from marketing.views import leads, public, tracking

app_name = "public-marketing"

urlpatterns = [
    path("unsubscribe/<str:token>/", public.unsubscribe, name="unsubscribe"),
    path("preferences/<str:token>/", public.preferences, name="preferences"),
    path("lead/<str:token>/", leads.lead_form, name="lead-form"),
    path("lead/confirm/<str:token>/", leads.lead_confirm_view, name="lead-confirm"),
    path("o/<str:token>/", tracking.track_open, name="track-open"),
    path("c/<str:token>/", tracking.track_click, name="track-click"),
]
