"""The service app's REST API over its own selectors and services (core/api.py has the
shared parts; integrations/api_urls.py mounts them under /api/v1/).

The same rules as the pages: tickets come from `tickets_visible_to` (a rep reads the
tickets of the customers they own, and another rep's ticket is a 404; agents and managers
read every ticket), and only those who may work tickets reply, add notes or resolve, through
the services the ticket page calls, so the SLA clock, the statuses and the emails behave as
on the page. A ticket's `messages` are its public conversation only; internal notes have
their own endpoint, for the staff who see them on the ticket page.
Attachments are not part of the API yet: the attachment model does not exist (core, issue 15
leaves it to its own change).
"""

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import IDEMPOTENCY_HEADER, etag_response, expected_version, idempotent
from core.api_router import ApiRouter
from crm.lib.forms import reject_nul
from crm.lib.params import BoundedModelChoiceFilter
from customers.selectors import customers_visible_to
from service import knowledge as kb
from service.api_serializers import (
    KnowledgeArticleSerializer,
    MessageCreateSerializer,
    ResolveSerializer,
    SatisfactionResponseSerializer,
    TicketCreateSerializer,
    TicketDetailSerializer,
    TicketMessageSerializer,
    TicketSerializer,
)
from service.filters import ALL, VIEWS, TicketFilter
from service.forms import ReplyForm, TicketCreateForm
from service.models import (
    ArticleCategory,
    KnowledgeArticle,
    SatisfactionResponse,
    Ticket,
    TicketMessage,
)
from service.selectors import (
    can_work_ticket,
    ticket_conversation,
    tickets_visible_to,
    with_sla_flags,
)
from service.services import ticket_create, ticket_customer_reply, ticket_reply, ticket_update

ID_PATTERN = r"[0-9]{1,18}"  # a path id no database integer overflows on (else 404)
RETRY_SAFE = [
    OpenApiParameter(
        IDEMPOTENCY_HEADER,
        str,
        OpenApiParameter.HEADER,
        description="A retry with the same key returns the first response, writing nothing.",
    )
]
IF_MATCH = [
    OpenApiParameter(
        "If-Match",
        str,
        OpenApiParameter.HEADER,
        description="The ETag the client read; a stale one answers 412 and changes nothing.",
    )
]


class TicketApiFilter(TicketFilter):
    """The queue's FilterSet; `view` picks the queue's tab (all tickets unless told). The
    queue's `sort` is left out: the API orders with `ordering` (cursor pagination)."""

    view = filters.ChoiceFilter(
        label=_("Queue tab"), choices=VIEWS, method="filter_view", empty_label=None
    )

    def __init__(self, data=None, queryset=None, *, request=None, **kwargs):
        wanted = data.get("view", "") if data is not None else ""
        view = wanted if wanted in dict(VIEWS) else ALL
        super().__init__(data, queryset, request=request, view=view, **kwargs)

    def filter_view(self, queryset, name, value):
        return queryset  # applied by TicketFilter._for_view


del TicketApiFilter.base_filters["sort"]  # this class's own copy; the queue keeps its sort


def _problem_form_errors(form) -> exceptions.ValidationError:
    """The page form's errors as the API's field errors (problem+json "errors")."""
    return exceptions.ValidationError(
        {
            "non_field_errors" if field == "__all__" else field: [e["message"] for e in errors]
            for field, errors in form.errors.get_json_data().items()
        }
    )


def _created(data: Any) -> Response:
    return Response(data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Tickets the user may see (the agents' queue's filters)"),
    retrieve=extend_schema(
        summary="A ticket with its public conversation (no internal notes)",
        responses={200: TicketDetailSerializer},
    ),
)
class TicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = TicketSerializer
    filterset_class = TicketApiFilter
    ordering_fields = ["created_at", "updated_at", "id"]
    lookup_value_regex = ID_PATTERN

    def get_queryset(self) -> QuerySet[Ticket]:
        tickets = with_sla_flags(tickets_visible_to(self.request.user), now=timezone.now())
        return tickets.prefetch_related("tags")

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ticket = self.get_object()
        context = self.get_serializer_context()
        context["public_messages"] = ticket_conversation(ticket, include_internal=False)
        data = TicketDetailSerializer(ticket, context=context).data
        return etag_response(Response(data), ticket)

    def _workable(self) -> Ticket:
        """The ticket if the user sees it (else 404) and may work it (else 403)."""
        ticket = self.get_object()
        if not can_work_ticket(self.request.user, ticket):
            raise exceptions.PermissionDenied(_("Only service agents and managers work tickets."))
        return ticket

    @extend_schema(
        summary="Open a ticket for a customer the user may see",
        request=TicketCreateSerializer,
        responses={201: TicketSerializer},
        parameters=RETRY_SAFE,
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = TicketCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        customers = customers_visible_to(request.user)
        customer = customers.filter(pk=body.validated_data["customer"]).first()
        if customer is None:
            raise exceptions.ValidationError({"customer": [_("No such customer.")]})
        form = TicketCreateForm(body.as_form_data(), customer=customer)
        if not form.is_valid():
            raise _problem_form_errors(form)
        ticket = ticket_create(customer=customer, created_by=request.user, **form.ticket_fields())
        ticket = self.get_queryset().get(pk=ticket.pk)
        return etag_response(_created(TicketSerializer(ticket).data), ticket)

    def _message(self, request: Request, kind: str) -> TicketMessage:
        ticket = self._workable()
        body = MessageCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        form = body.form(ReplyForm.INTERNAL if kind == ReplyForm.INTERNAL else ReplyForm.PUBLIC)
        if not form.is_valid():
            raise _problem_form_errors(form)
        if kind == "customer":
            return ticket_customer_reply(ticket=ticket, body=form.cleaned_data["body"])
        return ticket_reply(
            ticket=ticket,
            author=request.user,
            body=form.cleaned_data["body"],
            internal=kind == ReplyForm.INTERNAL,
        )

    @extend_schema(
        summary="Send a public reply to the customer (emailed; starts the ticket's work)",
        request=MessageCreateSerializer,
        responses={201: TicketMessageSerializer},
        parameters=RETRY_SAFE,
    )
    @action(detail=True, methods=["post"], url_path="replies")
    @idempotent
    def replies(self, request: Request, pk: str) -> Response:
        message = self._message(request, ReplyForm.PUBLIC)
        return _created(TicketMessageSerializer(message).data)

    @extend_schema(
        summary="Record the customer's reply (reopens a waiting or resolved ticket)",
        request=MessageCreateSerializer,
        responses={201: TicketMessageSerializer},
        parameters=RETRY_SAFE,
    )
    @action(detail=True, methods=["post"], url_path="customer-replies")
    @idempotent
    def customer_replies(self, request: Request, pk: str) -> Response:
        message = self._message(request, "customer")
        return _created(TicketMessageSerializer(message).data)

    @extend_schema(
        summary="The ticket's internal notes (staff only, never the customer)",
        request=None,
        responses={200: TicketMessageSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def notes(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        if not request.user.has_perm("service.view_ticketmessage"):
            raise exceptions.PermissionDenied()
        notes = ticket.messages.filter(kind=TicketMessage.Kind.NOTE).select_related("author")
        return Response(TicketMessageSerializer(notes.order_by("created_at", "pk"), many=True).data)

    @extend_schema(
        summary="Add an internal note",
        request=MessageCreateSerializer,
        responses={201: TicketMessageSerializer},
        parameters=RETRY_SAFE,
    )
    @notes.mapping.post
    @idempotent
    def add_note(self, request: Request, pk: str) -> Response:
        message = self._message(request, ReplyForm.INTERNAL)
        return _created(TicketMessageSerializer(message).data)

    @extend_schema(
        summary="Resolve the ticket (If-Match: the ETag read; a stale one answers 412)",
        request=ResolveSerializer,
        parameters=IF_MATCH,
        responses={200: TicketSerializer, 412: OpenApiResponse(description="Stale If-Match")},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def resolve(self, request: Request, pk: str) -> Response:
        ticket = self._workable()
        body = ResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ticket_update(
            ticket=ticket,
            user=request.user,
            expected_version=expected_version(request, ticket),
            status=Ticket.Status.RESOLVED,
            root_cause=body.validated_data.get("root_cause"),
        )
        ticket = self.get_queryset().get(pk=ticket.pk)
        return etag_response(Response(TicketSerializer(ticket).data), ticket)

    def get_object(self) -> Ticket:
        # The actions use the unfiltered visible tickets: the list's filters do not apply.
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])


class ArticleFilter(filters.FilterSet):
    search = filters.CharFilter(
        label=_("Search"), method="filter_search", max_length=200, validators=[reject_nul]
    )
    category = BoundedModelChoiceFilter(label=_("Category"), queryset=ArticleCategory.objects.all())

    class Meta:
        model = KnowledgeArticle
        fields = ["search", "category"]

    def filter_search(self, queryset, name, value):
        return kb.search_articles(queryset, value)


class ArticlePagination(LimitOffsetPagination):
    """Offsets, not a cursor: a search answers best match first (a rank no cursor can
    follow), and a knowledge base is hundreds of articles, not millions."""

    default_limit = 25
    max_limit = 100


@extend_schema_view(
    list=extend_schema(summary="Published knowledge articles; ?search= ranks by relevance"),
    retrieve=extend_schema(summary="A published knowledge article"),
)
class KnowledgeArticleViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = KnowledgeArticleSerializer
    filterset_class = ArticleFilter
    filter_backends = [filters.DjangoFilterBackend]
    pagination_class = ArticlePagination
    lookup_value_regex = ID_PATTERN

    def get_queryset(self) -> QuerySet[KnowledgeArticle]:
        articles = KnowledgeArticle.objects.filter(is_published=True).select_related("category")
        if self.action == "list" and not self.request.query_params.get("search", "").strip():
            return articles.order_by("title", "id")
        return articles.order_by("id")


class CsatFilter(filters.FilterSet):
    score = filters.ChoiceFilter(choices=[(n, str(n)) for n in range(1, 6)])
    # Dates, not datetimes: an aware datetime at the edge of the calendar (0001-01-01+14:00)
    # overflows when converted to UTC for the query; a date is compared as it is.
    created_from = filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    created_to = filters.DateFilter(field_name="created_at", lookup_expr="date__lte")

    class Meta:
        model = SatisfactionResponse
        fields = ["score", "created_from", "created_to"]


@extend_schema_view(
    list=extend_schema(summary="Customers' ratings of the tickets the user may see"),
    retrieve=extend_schema(summary="A customer's rating of a ticket"),
)
class SatisfactionResponseViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SatisfactionResponseSerializer
    filterset_class = CsatFilter
    ordering_fields = ["created_at", "id"]
    lookup_value_regex = ID_PATTERN

    def get_queryset(self) -> QuerySet[SatisfactionResponse]:
        return SatisfactionResponse.objects.filter(ticket__in=tickets_visible_to(self.request.user))


def register(router: ApiRouter) -> None:
    """Add this app's viewsets to /api/v1/."""
    router.register("tickets", TicketViewSet, basename="ticket")
    router.register("knowledge-articles", KnowledgeArticleViewSet, basename="knowledge-article")
    router.register("csat-responses", SatisfactionResponseViewSet, basename="csat-response")
