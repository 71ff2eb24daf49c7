"""The subject-line A/B test of an email campaign: set, change or remove it before sending."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from marketing.models import SubjectTest
from marketing.selectors import campaigns_visible_to, can_change_campaign
from marketing.services.subject_tests import subject_test_remove, subject_test_save
from marketing.subject_test_forms import SubjectTestForm


@permission_required("marketing.view_campaign", raise_exception=True)
@require_http_methods(["GET", "POST"])
def campaign_subject_test(request, pk):
    campaign = get_object_or_404(campaigns_visible_to(request.user), pk=pk)
    if not can_change_campaign(request.user, campaign):
        raise PermissionDenied
    test = SubjectTest.objects.filter(campaign=campaign).first()
    form = SubjectTestForm(request.POST or None, instance=test)
    if request.method == "POST" and _saved(request, form, campaign):
        return redirect("marketing:campaign-detail", pk=pk)
    status = 422 if request.method == "POST" else 200
    context = {"form": form, "campaign": campaign, "test": test}
    return render(request, "marketing/subject_test_form.html", context, status=status)


def _saved(request, form: SubjectTestForm, campaign) -> bool:
    try:
        if "remove" in request.POST:
            subject_test_remove(campaign=campaign)
            messages.success(request, _("Subject-line test removed."))
            return True
        if not form.is_valid():
            return False
        subject_test_save(campaign=campaign, **form.cleaned_data)
    except ValidationError as error:
        fields = getattr(error, "error_dict", {})
        form.add_error(None, error if set(fields) <= set(form.fields) else error.messages)
        return False
    messages.success(request, _("Subject-line test saved."))
    return True
