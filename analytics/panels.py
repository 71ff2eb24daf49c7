"""Analytics panels on other apps' pages (being written)."""


def register_analytics_panels() -> None:
    pass
