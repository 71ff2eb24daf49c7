"""Managers' dashboards and the segment runs."""

from django.urls import path

from analytics.views import dashboards, reports, runs, value

app_name = "analytics"

urlpatterns = [
    path("segments/", dashboards.segments, name="segments"),
    path("value/", value.value, name="value"),
    path("value/cannot-lose/tasks/", value.cannot_lose_tasks, name="cannot-lose-tasks"),
    path("pipeline/", reports.pipeline, name="pipeline"),
    path("service/", reports.service, name="service"),
    path("customers/<int:pk>/value/", dashboards.customer_value_panel, name="customer-value-panel"),
    path("runs/recompute/", runs.recompute, name="recompute"),
    path("runs/<int:pk>/", runs.run_status, name="run-status"),
    path("runs/<int:pk>/cancel/", runs.cancel, name="run-cancel"),
]
