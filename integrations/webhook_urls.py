from django.urls import path

from integrations import webhook_views as views

app_name = "integrations"
urlpatterns = [
    path("webhooks/", views.endpoint_list, name="webhook-list"),
    path("webhooks/new/", views.endpoint_create_view, name="webhook-create"),
    path("webhooks/<int:pk>/", views.endpoint_detail, name="webhook-detail"),
    path("webhooks/<int:pk>/edit/", views.endpoint_update_view, name="webhook-update"),
    path("webhooks/<int:pk>/delete/", views.endpoint_delete_view, name="webhook-delete"),
    path("webhooks/<int:pk>/rotate/", views.endpoint_rotate_view, name="webhook-rotate"),
    path("webhooks/<int:pk>/enable/", views.endpoint_enable_view, name="webhook-enable"),
    path("webhooks/<int:pk>/test/", views.endpoint_test_view, name="webhook-test"),
    path(
        "webhooks/deliveries/<int:pk>/redeliver/",
        views.delivery_redeliver_view,
        name="webhook-redeliver",
    ),
]
