"""The customers API's serializers: the JSON shapes of customers, contacts, interactions,
tasks and tags. They check types and sizes; the business rules stay in the app's forms and
services, which customers/api.py runs on what they let through."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import ApiModelSerializer
from customers.models import Channel, Contact, Customer, Interaction, Tag, Task
from customers.services import CUSTOMER_FIELDS

MAX_ID = 2**31 - 1  # no id a database integer holds is larger: refused before any query


def _id_field(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class ContactSerializer(ApiModelSerializer):
    customer = _id_field(source="customer_id")

    class Meta:
        model = Contact
        fields = ["id", "customer", "name", "job_title", "email", "phone", "is_primary"]
        read_only_fields = ["id"]


class NestedContactSerializer(ApiModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "name", "job_title", "email", "phone", "is_primary"]


class ConsentSerializer(serializers.Serializer):
    """Marketing consent per channel: true when the customer agreed to marketing on it."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {channel: serializers.BooleanField(required=False) for channel in Channel.values}


class ConsentOutSerializer(serializers.Serializer):
    """Every channel, true when the customer agreed to marketing on it."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {channel: serializers.BooleanField() for channel in Channel.values}


class CustomerSerializer(ApiModelSerializer):
    """A customer as the API answers it."""

    owner = serializers.IntegerField(source="owner_id", allow_null=True, read_only=True)
    tags = serializers.SerializerMethodField()
    consent = serializers.SerializerMethodField()
    contacts = NestedContactSerializer(many=True, read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            *CUSTOMER_FIELDS,
            "owner",
            "tags",
            "consent",
            "contacts",
            "version",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tags(self, customer: Customer) -> list[str]:
        return [tag.name for tag in customer.tags.all()]

    @extend_schema_field(ConsentOutSerializer)
    def get_consent(self, customer: Customer) -> dict[str, bool]:
        granted = {c.channel for c in customer.consents.all() if c.granted}
        return {channel: channel in granted for channel in Channel.values}


class CustomerWriteSerializer(serializers.Serializer):
    """What a client may send to create or change a customer; every field is optional here
    (a PATCH sends what changes) and the customer form says what a new one needs."""

    kind = serializers.ChoiceField(choices=Customer.Kind.choices, required=False)
    name = serializers.CharField(max_length=200, required=False)
    organization = serializers.CharField(max_length=200, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    country = serializers.CharField(max_length=100, required=False, allow_blank=True)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    industry = serializers.CharField(max_length=100, required=False, allow_blank=True)
    company_size = serializers.ChoiceField(
        choices=Customer.Size.choices, required=False, allow_blank=True
    )
    source = serializers.ChoiceField(choices=Customer.Source.choices, required=False)
    stage = serializers.ChoiceField(choices=Customer.Stage.choices, required=False)
    is_key_account = serializers.BooleanField(required=False)
    preferred_channel = serializers.ChoiceField(
        choices=Channel.choices, required=False, allow_blank=True
    )
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    owner = _id_field(required=False, allow_null=True, help_text="A user id; null: nobody.")
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), max_length=100, required=False
    )
    consent = ConsentSerializer(required=False)
    confirm_duplicate = serializers.BooleanField(
        required=False,
        write_only=True,
        help_text="Save even though another customer has the same email or phone.",
    )


class TagSerializer(ApiModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name"]
        read_only_fields = fields


class InteractionSerializer(ApiModelSerializer):
    customer = _id_field(source="customer_id")
    contact = _id_field(source="contact_id", required=False, allow_null=True)
    logged_by = serializers.IntegerField(source="logged_by_id", read_only=True, allow_null=True)
    occurred_at = serializers.DateTimeField(required=False)

    class Meta:
        model = Interaction
        fields = [
            "id",
            "customer",
            "contact",
            "channel",
            "direction",
            "occurred_at",
            "summary",
            "logged_by",
            "created_at",
        ]
        read_only_fields = ["id", "logged_by", "created_at"]
        extra_kwargs = {"summary": {"max_length": 5000}}


class TaskSerializer(ApiModelSerializer):
    customer = _id_field(source="customer_id")
    assignee = _id_field(
        source="assignee_id", required=False, help_text="A user id; you when left out."
    )
    created_by = serializers.IntegerField(source="created_by_id", read_only=True, allow_null=True)

    class Meta:
        model = Task
        fields = [
            "id",
            "customer",
            "title",
            "due_date",
            "assignee",
            "done",
            "done_at",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["id", "done", "done_at", "created_by", "created_at"]
