from django.urls import path

from core.attachment_views import attachment_download

urlpatterns = [
    path("<int:pk>/", attachment_download, name="attachment-download"),
]
