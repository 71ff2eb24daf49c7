from django.contrib import admin
from django.urls import include, path

from crm import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Browsers and feed readers ask for /favicon.ico whatever the page links: not a 404.
    path("favicon.ico", views.favicon, name="favicon"),
    path("readyz", views.readyz, name="readyz"),
    path("accounts/", include("core.urls")),  # the password reset email goes through the outbox
    path("accounts/", include("django.contrib.auth.urls")),
    # Django's set_language, keeping a signed-in user's choice in their profile.
    path("i18n/", include("core.language_urls")),
    path("customers/", include("customers.urls")),
    path("sales/", include("sales.urls")),
    path("service/", include("service.urls")),
    path("knowledge/", include("service.knowledge_urls")),
    path("help/", include("service.public_urls")),
    path("analytics/", include("analytics.urls")),
    path("marketing/", include("marketing.urls")),
    path("m/", include("marketing.public_urls")),
    path("ops/", include("integrations.urls")),  # the admins' jobs page
    path("integrations/", include("integrations.webhook_urls")),  # webhook endpoints
    path("exports/", include("core.export_urls")),
    path("notifications/", include("core.notification_urls")),  # the bell
    path("attachments/", include("core.attachment_urls")),  # every app's files, one download
    path("mail/", include("integrations.mail_urls")),  # mailboxes: quarantine, unfiled, compose
    path("api/v1/", include("integrations.api_urls")),  # the REST API (core/api.py)
    path("admin/", admin.site.urls),
]

# A database outage answers a 503 page, not "Server error" (crm/lib/db_outage.py).
handler404 = "core.api.not_found"
handler500 = "crm.lib.db_outage.server_error"

admin.site.site_header = "CRM"
admin.site.site_title = "CRM admin"
