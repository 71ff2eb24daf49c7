"""The REST API's settings (Django REST framework and drf-spectacular): see core/api.py."""

from crm.lib.env import env_str

# Requests per signed-in user (or token owner); "600/min" is ten a second.
CRM_API_RATE = env_str("CRM_API_RATE", "600/min")

REST_FRAMEWORK = {
    # A personal token first (`Authorization: Bearer`; its challenge makes a stranger's
    # request a 401), then the browser's session (with CSRF).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api_auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.api.ApiAccess"],
    "DEFAULT_PAGINATION_CLASS": "core.api.ApiCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    # JSON only: the browsable API's pages carry inline scripts the CSP refuses; the
    # documentation is the Swagger UI at /api/v1/docs/.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.api.StrictJSONParser"],
    "EXCEPTION_HANDLER": "core.api.problem_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["core.api.ApiUserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": CRM_API_RATE},
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "CRM API",
    "DESCRIPTION": "Customers, sales, service, marketing and analytics, with the same "
    "access rules as the pages.",
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the drf-spectacular-sidecar package's files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name for the channel choices that several fields share (preferred channel, consent).
    "ENUM_NAME_OVERRIDES": {"ChannelEnum": "customers.models.Channel"},
}

# Choice sets that share a field name ("status", "channel") get their own schema names;
# update(), so each app's entries merge with the others'.
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(  # type: ignore[attr-defined]
    {
        "TicketStatusEnum": "service.models.Ticket.Status",
        "TicketChannelEnum": "service.models.Ticket.Channel",
        "SegmentRunStatusEnum": "analytics.models.SegmentRun.Status",
        "CampaignStatusEnum": "marketing.models.Campaign.Status",
        "CampaignChannelEnum": "marketing.models.CampaignChannel",
        "OrderChannelEnum": "sales.models.Order.Channel",
        "CustomerKindEnum": "customers.models.Customer.Kind",
        "TicketMessageKindEnum": "service.models.TicketMessage.Kind",
    }
)
