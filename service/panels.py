"""Service panels on other apps' pages (being written)."""


def register_service_panels() -> None:
    pass
