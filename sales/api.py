"""The sales app's REST API: serializers and viewsets over its own selectors and services
(core/api.py has the shared parts; integrations/api_urls.py mounts them under /api/v1/)."""

from core.api_router import ApiRouter


def register(router: ApiRouter) -> None:
    """Add this app's viewsets to /api/v1/."""
