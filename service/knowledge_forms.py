"""The agents' knowledge-base forms: validation and normalisation only; forms never save."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.lib.params import BoundedModelChoiceField
from service.models import ArticleCategory, ArticleTranslation, KnowledgeArticle

BODY_MAX = 100_000


class ArticleForm(forms.ModelForm):
    class Meta:
        model = KnowledgeArticle
        fields = ["title", "language", "body", "category", "is_published"]
        widgets = {"body": forms.Textarea(attrs={"rows": 16, "class": "font-monospace"})}
        help_texts = {
            "body": _(
                "Markdown: **bold**, *italic*, # headings, - lists, [links](https://…), "
                "tables. HTML is shown as text."
            ),
            "is_published": _("Published articles appear on the public help pages."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = ArticleCategory.objects.order_by("order", "name")
        self.fields["category"].empty_label = _("No category")
        self.fields["body"].max_length = BODY_MAX
        self.fields["language"].required = False

    def clean_language(self):
        """Not chosen: the article keeps its language (a new one: the site's)."""
        return self.cleaned_data["language"] or self.instance.language

    def clean_title(self):
        title = " ".join(self.cleaned_data["title"].split())
        if not title:
            raise forms.ValidationError(_("Give the article a title."))
        return title

    def clean_body(self):
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError(_("Write the article's text."))
        return body


class TranslationForm(forms.ModelForm):
    """An article's title and body in another language (the language is in the URL)."""

    class Meta:
        model = ArticleTranslation
        fields = ["title", "body", "is_published"]
        widgets = {"body": forms.Textarea(attrs={"rows": 16, "class": "font-monospace"})}
        help_texts = {
            "is_published": _(
                "Published translations are shown to visitors reading in this language; "
                "until then they see the original."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].max_length = BODY_MAX

    def clean_title(self):
        title = " ".join(self.cleaned_data["title"].split())
        if not title:
            raise forms.ValidationError(_("Give the translation a title."))
        return title

    def clean_body(self):
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError(_("Write the translated text."))
        return body


class PreviewForm(forms.Form):
    body = forms.CharField(required=False, max_length=BODY_MAX, strip=False)


class ArticleListForm(forms.Form):
    """The list's search, filters and sort; an invalid value is ignored (with a notice)."""

    SORTS = {
        "": None,
        "title": ("title", "id"),
        "-updated": ("-updated_at", "-id"),
        "-views": ("-view_count", "title", "id"),
        "-helpful": ("-helpfulness", "-helpful_votes", "title", "id"),
    }

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    category = BoundedModelChoiceField(
        label=_("Category"), required=False, queryset=ArticleCategory.objects.none()
    )
    published = forms.ChoiceField(
        label=_("Published"),
        required=False,
        choices=[("", _("Any")), ("yes", _("Published")), ("no", _("Draft"))],
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("", _("Best match")),
            ("title", _("Title")),
            ("-updated", _("Recently updated")),
            ("-views", _("Most viewed")),
            ("-helpful", _("Most helpful")),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = ArticleCategory.objects.order_by("order", "name")
        self.fields["category"].empty_label = _("Any")
