"""A customer's rights over their data, exercised by a manager: erasure and access."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crm.lib.http import AuthenticatedHttpRequest
from customers.access import customer_data_download
from customers.erasure import AlreadyErasedError, customer_erase, erased_summary
from customers.forms import EraseConfirmForm
from customers.selectors import customers_visible_to


@permission_required("customers.erase_customer", raise_exception=True)
@require_http_methods(["GET", "POST"])
def customer_erase_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """What erasure does, then the typed confirmation; the erasure itself on POST."""
    customer = get_object_or_404(customers_visible_to(request.user), pk=pk)
    if customer.erased_at is not None:
        messages.info(request, _("This customer's personal data was erased already."))
        return redirect(customer)
    form = EraseConfirmForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        try:
            customer_erase(customer=customer, erased_by=request.user, request=request)
        except AlreadyErasedError:
            messages.info(request, _("This customer's personal data was erased already."))
        else:
            messages.success(
                request,
                _("The personal data of customer #%(pk)s was erased in every part of the CRM.")
                % {"pk": customer.pk},
            )
        return redirect(customer)
    context = {"customer": customer, "form": form, "counts": erased_summary(customer)}
    status = 422 if form.errors else 200
    return render(request, "customers/customer_erase.html", context, status=status)


@permission_required("customers.access_customer_data", raise_exception=True)
@require_http_methods(["GET", "POST"])
def customer_data_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """What the download holds (GET); the download itself, audited (POST)."""
    customer = get_object_or_404(customers_visible_to(request.user), pk=pk)
    if request.method == "POST":
        download = customer_data_download(customer=customer, by=request.user, request=request)
        response = HttpResponse(download.content, content_type=download.content_type)
        response["Content-Disposition"] = f'attachment; filename="{download.file_name}"'
        response["Cache-Control"] = "no-store"
        return response
    return render(request, "customers/customer_data.html", {"customer": customer})
