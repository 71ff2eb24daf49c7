"""The service API's serializers (service/api.py has the views): what a ticket, its
messages, a knowledge article and a rating look like in JSON, and the shapes of the
request bodies. Input serializers only check types and sizes; the rules (a subject that is
not blank, a contact of the ticket's customer, an agent as assignee) stay in service.forms
and service.services, which the views call."""

from rest_framework import serializers

from core.api import ApiModelSerializer
from crm.lib.params import MAX_ID
from service import knowledge as kb
from service.forms import ReplyForm, TicketCreateForm
from service.models import KnowledgeArticle, Priority, SatisfactionResponse, Ticket, TicketMessage

_ID = {"min_value": 1, "max_value": MAX_ID}
BODY_MAX = 20_000


class TicketMessageSerializer(ApiModelSerializer):
    """A message of the thread: a public reply (an agent's or the customer's) or a note."""

    author = serializers.IntegerField(source="author_id", allow_null=True, read_only=True)
    author_name = serializers.SerializerMethodField()

    class Meta:
        model = TicketMessage
        fields = ["id", "kind", "from_customer", "author", "author_name", "body", "created_at"]
        read_only_fields = fields

    def get_author_name(self, message: TicketMessage) -> str:
        if message.from_customer or message.author is None:
            return ""
        return message.author.get_username()


class TicketSerializer(ApiModelSerializer):
    """A ticket as the queue lists it, with its SLA due times and flags."""

    customer = serializers.IntegerField(source="customer_id", allow_null=True, read_only=True)
    contact = serializers.IntegerField(source="contact_id", allow_null=True, read_only=True)
    assignee = serializers.IntegerField(source="assignee_id", allow_null=True, read_only=True)
    team = serializers.IntegerField(source="team_id", allow_null=True, read_only=True)
    tags = serializers.SerializerMethodField()
    sla_paused = serializers.SerializerMethodField()
    first_response_breached = serializers.SerializerMethodField()
    resolution_breached = serializers.SerializerMethodField()
    at_risk = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "customer",
            "contact",
            "requester_name",
            "requester_email",
            "sender_unverified",
            "subject",
            "description",
            "channel",
            "category",
            "priority",
            "status",
            "root_cause",
            "assignee",
            "team",
            "tags",
            "first_response_due",
            "first_responded_at",
            "resolution_due",
            "resolved_at",
            "closed_at",
            "sla_paused",
            "first_response_breached",
            "resolution_breached",
            "at_risk",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_tags(self, ticket: Ticket) -> list[int]:
        return [tag.pk for tag in ticket.tags.all()]  # prefetched by the view

    def get_sla_paused(self, ticket: Ticket) -> bool:
        return ticket.sla_paused_at is not None

    def get_first_response_breached(self, ticket: Ticket) -> bool:
        return bool(getattr(ticket, "first_response_breached", False))

    def get_resolution_breached(self, ticket: Ticket) -> bool:
        return bool(getattr(ticket, "resolution_breached", False))

    def get_at_risk(self, ticket: Ticket) -> bool:
        return bool(getattr(ticket, "at_risk", False))


class TicketDetailSerializer(TicketSerializer):
    """A ticket with its public conversation (oldest first): never an internal note, so a
    client may relay it to the customer; notes are at /tickets/{id}/notes/."""

    messages = serializers.SerializerMethodField()

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "messages"]
        read_only_fields = fields

    def get_messages(self, ticket: Ticket) -> list[dict]:
        return TicketMessageSerializer(self.context["public_messages"], many=True).data


# Keep the same choices as the pages' form, from the form itself.
_CREATE_FIELDS = TicketCreateForm.base_fields


class TicketCreateSerializer(serializers.Serializer):
    """A new ticket of a customer the user may see (validated by the page's form)."""

    customer = serializers.IntegerField(**_ID)
    subject = serializers.CharField(max_length=200, allow_blank=True)
    description = serializers.CharField(max_length=BODY_MAX, allow_blank=True)
    channel = serializers.ChoiceField(choices=Ticket.Channel.choices, default=Ticket.Channel.EMAIL)
    category = serializers.ChoiceField(
        choices=Ticket.Category.choices, default=Ticket.Category.QUESTION
    )
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    contact = serializers.IntegerField(required=False, allow_null=True, **_ID)
    assignee = serializers.IntegerField(required=False, allow_null=True, **_ID)
    team = serializers.IntegerField(required=False, allow_null=True, **_ID)
    tags = serializers.ListField(
        child=serializers.IntegerField(**_ID), required=False, max_length=100
    )

    def as_form_data(self) -> dict:
        """The validated body as the form's data (ids as text, absent ones empty)."""
        data = dict(self.validated_data)
        data.pop("customer")
        form_data: dict[str, str | list[str]] = {
            name: "" if data.get(name) is None else str(data[name])
            for name in _CREATE_FIELDS
            if name != "tags"
        }
        form_data["tags"] = [str(pk) for pk in data.get("tags", [])]
        return form_data


class MessageCreateSerializer(serializers.Serializer):
    """A reply or a note: its text (blank text is refused by the page's form)."""

    body = serializers.CharField(max_length=BODY_MAX, allow_blank=True)

    def form(self, kind: str) -> ReplyForm:
        return ReplyForm({"kind": kind, "body": self.validated_data["body"]})


class ResolveSerializer(serializers.Serializer):
    """Resolving needs a root cause for a complaint (the service checks it)."""

    root_cause = serializers.ChoiceField(choices=Ticket.RootCause.choices, required=False)


class KnowledgeArticleSerializer(ApiModelSerializer):
    """A published article: its Markdown and the safe HTML the help pages show."""

    category = serializers.IntegerField(source="category_id", allow_null=True, read_only=True)
    category_name = serializers.SerializerMethodField()
    body_html = serializers.SerializerMethodField()

    class Meta:
        model = KnowledgeArticle
        fields = [
            "id",
            "title",
            "category",
            "category_name",
            "body",
            "body_html",
            "helpful_votes",
            "not_helpful_votes",
            "view_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_category_name(self, article: KnowledgeArticle) -> str:
        return article.category.name if article.category else ""

    def get_body_html(self, article: KnowledgeArticle) -> str:
        return str(kb.render_markdown(article.body))


class SatisfactionResponseSerializer(ApiModelSerializer):
    ticket = serializers.IntegerField(source="ticket_id", read_only=True)

    class Meta:
        model = SatisfactionResponse
        fields = ["id", "ticket", "score", "comment", "created_at"]
        read_only_fields = fields
