"""Self-service at /help/: public, no login (views are marked login_not_required)."""

from django.urls import path

from service.views import public

app_name = "help"

urlpatterns = [
    path("", public.help_home, name="home"),
    path("articles/<int:pk>/", public.help_article, name="article"),
    path("articles/<int:pk>/vote/", public.help_vote, name="vote"),
    path("suggest/", public.help_suggest, name="suggest"),
    path("submit/", public.help_submit, name="submit"),
    path("submit/thanks/", public.help_submitted, name="submitted"),
    path("tickets/<str:token>/", public.help_ticket, name="ticket"),
    path("rate/<str:token>/", public.help_rate, name="csat"),
]
