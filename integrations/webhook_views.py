"""Webhook endpoint pages (managers and admins): list, create and edit, the delivery log."""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from integrations import selectors
from integrations import webhook_services as webhooks
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.webhook_forms import WebhookEndpointForm

DELIVERIES_PAGE_SIZE = 25


def _managers_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not selectors.may_manage_webhooks(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _endpoint(request: HttpRequest, pk: int) -> WebhookEndpoint:
    return get_object_or_404(selectors.endpoints_visible_to(request.user), pk=pk)


def _show_secret_once(request: HttpRequest, endpoint: WebhookEndpoint, secret: str) -> None:
    request.session[f"webhook-secret-{endpoint.pk}"] = secret


@_managers_only
def endpoint_list(request: HttpRequest) -> HttpResponse:
    endpoints = selectors.endpoints_visible_to(request.user)
    return render(request, "integrations/webhook_list.html", {"endpoints": endpoints})


@_managers_only
@require_http_methods(["GET", "POST"])
def endpoint_create_view(request: HttpRequest) -> HttpResponse:
    form = WebhookEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = webhooks.endpoint_create(
                owner=request.user,  # type: ignore[arg-type]  # signed in: a manager
                **form.cleaned_data,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            _show_secret_once(request, endpoint, endpoint.secret)
            messages.success(request, _("The endpoint is registered."))
            return redirect("integrations:webhook-detail", endpoint.pk)
    status = 422 if form.errors else 200
    return render(request, "integrations/webhook_form.html", {"form": form}, status=status)


@_managers_only
@require_http_methods(["GET", "POST"])
def endpoint_update_view(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    initial = {"name": endpoint.name, "url": endpoint.url, "events": endpoint.events}
    form = WebhookEndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            webhooks.endpoint_update(endpoint=endpoint, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The endpoint is saved."))
            return redirect("integrations:webhook-detail", endpoint.pk)
    context = {"form": form, "endpoint": endpoint}
    return render(
        request, "integrations/webhook_form.html", context, status=422 if form.errors else 200
    )


@_managers_only
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    deliveries = selectors.deliveries_of(endpoint)
    page = Paginator(deliveries, DELIVERIES_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "endpoint": endpoint,
        "page": page,
        "secret": request.session.pop(f"webhook-secret-{endpoint.pk}", None),
    }
    return render(request, "integrations/webhook_detail.html", context)


@_managers_only
@require_POST
def endpoint_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    webhooks.endpoint_delete(endpoint=_endpoint(request, pk))
    messages.success(request, _("The endpoint is deleted; it receives no more events."))
    return redirect("integrations:webhook-list")


@_managers_only
@require_POST
def endpoint_rotate_view(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    _show_secret_once(request, endpoint, webhooks.endpoint_rotate_secret(endpoint=endpoint))
    messages.success(request, _("A new secret is in use; the old one no longer signs events."))
    return redirect("integrations:webhook-detail", endpoint.pk)


@_managers_only
@require_POST
def endpoint_enable_view(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    webhooks.endpoint_enable(endpoint=endpoint)
    messages.success(request, _("The endpoint is active again; waiting events are sent now."))
    return redirect("integrations:webhook-detail", endpoint.pk)


@_managers_only
@require_POST
def endpoint_test_view(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    webhooks.endpoint_send_test(endpoint=endpoint)
    messages.success(request, _("A test event is on its way: see the log below."))
    return redirect("integrations:webhook-detail", endpoint.pk)


@_managers_only
@require_POST
def delivery_redeliver_view(request: HttpRequest, pk: int) -> HttpResponse:
    visible = WebhookDelivery.objects.filter(
        endpoint__in=selectors.endpoints_visible_to(request.user)
    )
    delivery = get_object_or_404(visible, pk=pk)
    try:
        webhooks.delivery_redeliver(delivery=delivery)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The event will be sent again."))
    return redirect("integrations:webhook-detail", delivery.endpoint_id)
