"""The /api/v1/ router that every app's `register(router)` adds its viewsets to."""

from django.urls import URLPattern
from rest_framework.routers import DefaultRouter


class ApiRouter(DefaultRouter):
    """The /api/v1/ router; an app's `register(router)` adds viewsets, and plain views
    (a report that is not a collection) through `add_path`."""

    # No `/customers.json` twins: JSON is the only format, and an external id with a dot
    # ("shop.42") must not be read as a format suffix.
    include_format_suffixes = False

    def __init__(self) -> None:
        super().__init__()
        self.extra_paths: list[URLPattern] = []

    def add_path(self, pattern: URLPattern) -> None:
        self.extra_paths.append(pattern)
