"""Knowledge-base management for agents (login required)."""

from django.urls import path

from service.views import knowledge

app_name = "knowledge"

urlpatterns = [
    path("", knowledge.article_list, name="article-list"),
    path("new/", knowledge.article_create_view, name="article-create"),
    path("preview/", knowledge.article_preview, name="article-preview"),
    path("<int:pk>/", knowledge.article_detail, name="article-detail"),
    path("<int:pk>/edit/", knowledge.article_edit, name="article-edit"),
    path("<int:pk>/delete/", knowledge.article_delete_view, name="article-delete"),
    path(
        "<int:pk>/translations/<str:language>/",
        knowledge.translation_edit,
        name="translation-edit",
    ),
    path(
        "<int:pk>/translations/<str:language>/delete/",
        knowledge.translation_delete_view,
        name="translation-delete",
    ),
]
