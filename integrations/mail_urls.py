"""Mail pages (issue 14): the unfiled sales emails, the original of a message, compose."""

app_name = "mail"

urlpatterns: list = []
