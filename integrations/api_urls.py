"""/api/v1/: every app's API (`<app>/api.py`, its `register(router)`), the OpenAPI schema
and its documentation. The API authenticates and answers JSON itself (core/api.py), so
its views are exempt from the pages' login redirect."""

from django.urls import URLPattern, URLResolver, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from analytics import api as analytics_api
from core.api_router import ApiRouter
from customers import api as customers_api
from marketing import api as marketing_api
from sales import api as sales_api
from service import api as service_api

app_name = "api"

router = ApiRouter()
for app_api in (customers_api, sales_api, service_api, analytics_api, marketing_api):
    app_api.register(router)


def _without_login_redirect(patterns: list) -> list:
    """DRF answers 401/403 in JSON; LoginRequiredMiddleware must not redirect to the login page."""
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback.login_required = False  # type: ignore[attr-defined]
        elif isinstance(pattern, URLResolver):
            _without_login_redirect(pattern.url_patterns)
    return patterns


urlpatterns = _without_login_redirect(
    [
        *router.urls,
        *router.extra_paths,
        path("schema/", SpectacularAPIView.as_view(), name="schema"),
        path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    ]
)
