"""The user's saved email templates: list (own and shared), create, edit, delete. Only the
owner changes a template; a shared one is offered to everyone on the compose page."""

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.lib.forms import reject_nul
from crm.lib.params import MAX_ID
from integrations.compose import email_templates_for, field_names
from integrations.models import EmailTemplate
from integrations.unfiled import may_file_email
from marketing.personalise import check_template


class EmailTemplateForm(forms.ModelForm):
    class Meta:
        model = EmailTemplate
        fields = ["name", "subject", "body", "shared"]
        widgets = {"body": forms.Textarea(attrs={"rows": 10})}
        labels = {"body": gettext_lazy("Message")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("name", "subject", "body"):
            self.fields[name].validators.append(reject_nul)
        for name in ("subject", "body"):
            self.fields[name].validators.append(check_template)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        taken = EmailTemplate.objects.filter(owner_id=self.instance.owner_id, name=name)
        if taken.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("You have a template with this name already."))
        return name


def _writer(request: HttpRequest) -> None:
    if not may_file_email(request.user):
        raise Http404


def _own_template(request: HttpRequest, pk: int) -> EmailTemplate:
    if pk > MAX_ID:
        raise Http404
    return get_object_or_404(EmailTemplate.objects.filter(owner_id=request.user.pk), pk=pk)


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    _writer(request)
    templates = email_templates_for(request.user).order_by("-shared", "name", "pk")
    return render(request, "integrations/mail/template_list.html", {"templates": templates})


@login_required
def template_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _writer(request)
    template = (
        _own_template(request, pk)
        if pk is not None
        else EmailTemplate(owner=cast(User, request.user))
    )
    form = EmailTemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Template saved."))
        return redirect("mail:template-list")
    context = {"form": form, "template": template, "fields": field_names()}
    status = 422 if form.is_bound else 200
    return render(request, "integrations/mail/template_form.html", context, status=status)


@login_required
@require_POST
def template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _writer(request)
    _own_template(request, pk).delete()
    messages.success(request, _("Template deleted."))
    return redirect("mail:template-list")
