from django.urls import path

from core.attachment_views import attachment_delete, attachment_download, attachment_upload

urlpatterns = [
    path("<int:pk>/", attachment_download, name="attachment-download"),
    path("<int:pk>/delete/", attachment_delete, name="attachment-delete"),
    path("add/<str:label>/<int:owner_pk>/", attachment_upload, name="attachment-upload"),
]
