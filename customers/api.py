"""The customers app's REST API: customers (with contacts, tags and consent per channel,
upserted by external id), contacts, interactions, tasks and tags. Reads go through
customers.selectors, writes through the customer forms (the same validation as the pages)
and customers.services; core/api.py has the shared parts."""

from typing import Any

import django_filters
from django.db import IntegrityError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import ApiAccess, etag_response, expected_version, idempotent
from core.api_router import ApiRouter
from crm.lib.params import BoundedModelChoiceFilter
from customers.api_forms import (
    AGENT_FIELDS,
    customer_form,
    form_errors,
    interaction_form,
    task_form,
)
from customers.api_serializers import (
    ContactSerializer,
    CustomerSerializer,
    CustomerWriteSerializer,
    InteractionSerializer,
    TagSerializer,
    TaskSerializer,
)
from customers.filters import CustomerFilter
from customers.forms import ContactForm, CustomerForm
from customers.models import Contact, Customer, Interaction, Tag, Task
from customers.selectors import (
    can_change_task,
    can_edit_contact_details,
    can_edit_customer,
    can_work_customer,
    customers_visible_to,
)
from customers.services import (
    contact_save,
    customer_create,
    customer_update,
    interaction_log,
    task_create,
    task_set_done,
)

ID_PATTERN = r"[0-9]+"
PROBLEM = OpenApiResponse(description="A problem (application/problem+json).")
ERRORS = {400: PROBLEM, 403: PROBLEM, 404: PROBLEM}
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag you read: a stale one answers 412 and changes nothing.",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="A retried POST with the same key answers the first response, writing nothing.",
)


class CustomerAccess(ApiAccess):
    """A service agent may PATCH a customer's contact details without change_customer (the
    page's contact-details form); which fields, the view decides per customer."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method == "PATCH" and request.user.has_perm(
            "customers.change_customer_contact_details"
        ):
            return super().has_permission(request, view) or bool(
                request.user.has_perm("customers.view_customer")
            )
        return super().has_permission(request, view)


class ApiCustomerFilter(CustomerFilter):
    """The customer list page's filters; the API orders with `ordering` (cursor paging), so
    the page's `sort` and its deep-page reading are left out."""

    @property
    def qs(self):
        return django_filters.FilterSet.qs.fget(self)


# The API orders with `ordering`: no `sort` (a copy, so the page's filter keeps it).
ApiCustomerFilter.base_filters = {
    name: f for name, f in CustomerFilter.base_filters.items() if name != "sort"
}


def _validated(serializer_class: type, data: Any, **kwargs: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _source(request: Request, verb: str) -> str:
    return _("%(verb)s through the API by %(user)s") % {
        "verb": verb,
        "user": request.user.get_username(),
    }


class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Customers with their contacts, tags and consent. `PATCH` takes `If-Match`."""

    serializer_class = CustomerSerializer
    permission_classes = [CustomerAccess]
    filterset_class = ApiCustomerFilter
    ordering_fields = ["name", "created_at", "updated_at", "id"]
    lookup_value_regex = ID_PATTERN
    queryset = Customer.objects.none()  # for the schema; get_queryset reads the selector

    def get_queryset(self):
        return (
            customers_visible_to(self.request.user)
            .select_related("owner")
            .prefetch_related("tags", "consents", "contacts")
        )

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        customer = self.get_object()
        return etag_response(Response(self.get_serializer(customer).data), customer)

    def _answer(self, customer: Customer, status_code: int = 200) -> Response:
        fresh = self.get_queryset().get(pk=customer.pk)
        return etag_response(Response(self.get_serializer(fresh).data, status=status_code), fresh)

    @extend_schema(
        request=CustomerWriteSerializer,
        responses={201: CustomerSerializer, **ERRORS},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not request.user.has_perm("customers.add_customer"):
            raise exceptions.PermissionDenied()
        payload = _validated(CustomerWriteSerializer, request.data)
        return self._answer(self._create(request, payload), status.HTTP_201_CREATED)

    def _create(self, request: Request, payload: dict[str, Any]) -> Customer:
        form = customer_form(request.user, None, payload)
        if not form.is_valid():
            raise exceptions.ValidationError(form_errors(form))
        data = form.cleaned_data
        return customer_create(
            data=data,
            owner=data["owner"],
            tags=data["tags"],
            consent_channels=data["consent"],
            consent_source=_source(request, _("Entered")),
            by=request.user,
        )

    @extend_schema(
        request=CustomerWriteSerializer,
        responses={200: CustomerSerializer, 412: PROBLEM, **ERRORS},
        parameters=[IF_MATCH],
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        customer = self.get_object()
        payload = _validated(CustomerWriteSerializer, request.data)
        return self._answer(self._update(request, customer, payload))

    def _update(self, request: Request, customer: Customer, payload: dict[str, Any]) -> Customer:
        version = expected_version(request, customer)
        user = request.user
        if can_edit_customer(user, customer):
            form = customer_form(user, customer, payload)
        elif can_edit_contact_details(user, customer) and set(payload) <= AGENT_FIELDS:
            form = customer_form(user, customer, payload, contact_details_only=True)
        else:
            raise exceptions.PermissionDenied(_("You may not change this customer."))
        if not form.is_valid():
            raise exceptions.ValidationError(form_errors(form))
        data = form.cleaned_data
        if not isinstance(form, CustomerForm):
            return customer_update(customer=customer, expected_version=version, data=data)
        return customer_update(
            customer=customer,
            expected_version=version,
            data=data,
            owner=data["owner"],
            tags=data["tags"],
            consent_channels=data["consent"],
            consent_source=_source(request, _("Changed")),
            by=request.user,
        )

    @extend_schema(
        request=CustomerWriteSerializer,
        responses={200: CustomerSerializer, 201: CustomerSerializer, 412: PROBLEM, **ERRORS},
        parameters=[IF_MATCH],
        description="Create or update the customer with this external id (your system's id): "
        "201 when it was new, 200 when it was updated; the fields you send are set, the others "
        "kept. Retrying it is safe.",
    )
    @action(
        detail=False,
        methods=["put"],
        url_path=r"by-external-id/(?P<external_id>[^/]{1,100})",
        url_name="upsert",
    )
    def upsert(self, request: Request, external_id: str) -> Response:
        if "\x00" in external_id or not external_id.strip():
            raise exceptions.ValidationError({"external_id": [_("Enter a valid external id.")]})
        payload = {**_validated(CustomerWriteSerializer, request.data), "external_id": external_id}
        for _attempt in range(2):
            existing = self.get_queryset().filter(external_id=external_id).first()
            if existing is not None:
                return self._answer(self._update(request, existing, payload))
            if not request.user.has_perm("customers.add_customer"):
                raise exceptions.PermissionDenied()
            try:
                customer = self._create(request, payload)
            except IntegrityError:
                continue  # a concurrent request created it first: update that one
            return self._answer(customer, status.HTTP_201_CREATED)
        raise UpsertConflict()


class UpsertConflict(exceptions.APIException):
    """The customer could not be saved twice in a row (a race lost twice, or a rule the
    database holds that the form does not check): the client retries or looks."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("The customer changed meanwhile; retry.")
    default_code = "upsert_conflict"


class ContactFilter(django_filters.FilterSet):
    customer = BoundedModelChoiceFilter(queryset=Customer.objects.all())

    class Meta:
        model = Contact
        fields = ["customer"]


class ContactViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A customer's contacts (people at a company customer)."""

    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    ordering_fields = ["name", "id"]
    lookup_value_regex = ID_PATTERN
    queryset = Contact.objects.none()

    def get_queryset(self):
        return Contact.objects.filter(customer__in=customers_visible_to(self.request.user))

    @extend_schema(responses={201: ContactSerializer, **ERRORS}, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = _validated(ContactSerializer, request.data)
        customer = _visible_customer(request, payload.pop("customer_id"))
        if not can_edit_contact_details(request.user, customer):
            raise exceptions.PermissionDenied(_("You may not change this customer."))
        form = ContactForm(payload)
        if not form.is_valid():
            raise exceptions.ValidationError(form_errors(form))
        contact = contact_save(customer=customer, data=form.cleaned_data)
        return Response(ContactSerializer(contact).data, status=status.HTTP_201_CREATED)


def _visible_customer(request: Request, pk: int) -> Customer:
    customer = customers_visible_to(request.user).filter(pk=pk).first()
    if customer is None:
        raise exceptions.ValidationError({"customer": [_("No such customer.")]})
    return customer


class InteractionFilter(django_filters.FilterSet):
    customer = BoundedModelChoiceFilter(queryset=Customer.objects.all())

    class Meta:
        model = Interaction
        fields = ["customer", "channel", "direction"]


class InteractionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Calls, emails, meetings... logged on customers, newest first."""

    serializer_class = InteractionSerializer
    filterset_class = InteractionFilter
    ordering_fields = ["occurred_at", "id"]
    lookup_value_regex = ID_PATTERN
    queryset = Interaction.objects.none()

    def get_queryset(self):
        return Interaction.objects.filter(customer__in=customers_visible_to(self.request.user))

    @extend_schema(responses={201: InteractionSerializer, **ERRORS}, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = _validated(InteractionSerializer, request.data)
        customer = _visible_customer(request, payload.pop("customer_id"))
        if not can_work_customer(request.user, customer):
            raise exceptions.PermissionDenied(_("You may not log on this customer."))
        form = interaction_form(customer, payload)
        if not form.is_valid():
            raise exceptions.ValidationError(form_errors(form))
        interaction = interaction_log(
            customer=customer, logged_by=request.user, mentions=True, **form.cleaned_data
        )
        return Response(InteractionSerializer(interaction).data, status=status.HTTP_201_CREATED)


class TaskFilter(django_filters.FilterSet):
    customer = BoundedModelChoiceFilter(queryset=Customer.objects.all())
    mine = django_filters.BooleanFilter(method="filter_mine", label="Only my tasks")

    class Meta:
        model = Task
        fields = ["customer", "done", "mine"]

    def filter_mine(self, queryset, name, value):
        return queryset.filter(assignee=self.request.user) if value else queryset


class TaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Follow-up tasks on customers; `complete` marks one done."""

    serializer_class = TaskSerializer
    filterset_class = TaskFilter
    ordering_fields = ["due_date", "id"]
    lookup_value_regex = ID_PATTERN
    queryset = Task.objects.none()

    def get_queryset(self):
        return Task.objects.filter(customer__in=customers_visible_to(self.request.user))

    @extend_schema(responses={201: TaskSerializer, **ERRORS}, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = _validated(TaskSerializer, request.data)
        customer = _visible_customer(request, payload.pop("customer_id"))
        if not can_work_customer(request.user, customer):
            raise exceptions.PermissionDenied(_("You may not add tasks on this customer."))
        form = task_form(request.user, payload)
        if not form.is_valid():
            raise exceptions.ValidationError(form_errors(form))
        task = task_create(customer=customer, created_by=request.user, **form.cleaned_data)
        return Response(TaskSerializer(task).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: TaskSerializer, 403: PROBLEM, 404: PROBLEM})
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str) -> Response:
        task = get_object_or_404(self.get_queryset(), pk=pk)
        if not can_change_task(request.user, task):
            raise exceptions.PermissionDenied(_("You may not change this task."))
        if not task.done:
            task = task_set_done(task=task, done=True)
        return Response(TaskSerializer(task).data)


class TagViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The tags customers may carry (by name in a customer's `tags`)."""

    serializer_class = TagSerializer
    ordering_fields = ["name", "id"]
    queryset = Tag.objects.all()


def register(router: ApiRouter) -> None:
    """Add this app's viewsets to /api/v1/."""
    router.register("customers", CustomerViewSet, basename="customer")
    router.register("contacts", ContactViewSet, basename="contact")
    router.register("interactions", InteractionViewSet, basename="interaction")
    router.register("tasks", TaskViewSet, basename="task")
    router.register("tags", TagViewSet, basename="tag")
