from django.urls import path

from integrations import views

app_name = "ops"
urlpatterns = [
    path("jobs/", views.jobs_view, name="jobs"),
]
