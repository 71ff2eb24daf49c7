"""factory_boy factories for every model the tests create."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.utils import timezone

from analytics.models import CustomerValue, SegmentRun
from customers.models import Consent, Contact, Customer, Interaction, Tag, Task
from marketing.models import Campaign, CampaignRecipient
from sales.models import Deal, Order, OrderLine, Product, Stage
from service.models import KnowledgeArticle, SatisfactionResponse, Team, Ticket, TicketMessage


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-for-tests-1")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


class TagFactory(factory.django.DjangoModelFactory[Tag]):
    class Meta:
        model = Tag
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"tag{n}")


class CustomerFactory(factory.django.DjangoModelFactory[Customer]):
    class Meta:
        model = Customer

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    phone = factory.Sequence(lambda n: f"+86 {1380000000 + n}")
    country = "China"
    region = "Guangdong"
    city = "Shenzhen"
    industry = "Retail"
    stage = Customer.Stage.CUSTOMER


class ContactFactory(factory.django.DjangoModelFactory[Contact]):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory, kind=Customer.Kind.COMPANY)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")


class InteractionFactory(factory.django.DjangoModelFactory[Interaction]):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    summary = factory.Faker("sentence")
    occurred_at = factory.LazyFunction(timezone.now)


class TaskFactory(factory.django.DjangoModelFactory[Task]):
    class Meta:
        model = Task

    customer = factory.SubFactory(CustomerFactory)
    assignee = factory.SubFactory(UserFactory)
    title = factory.Faker("sentence", nb_words=4)
    due_date = factory.LazyFunction(timezone.localdate)


class ProductFactory(factory.django.DjangoModelFactory[Product]):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    unit_price = factory.LazyFunction(lambda: Decimal("100.00"))
    tax_rate = factory.LazyFunction(lambda: Decimal("13.00"))


class DealFactory(factory.django.DjangoModelFactory[Deal]):
    """A deal in the default pipeline's first stage; pass stage=... to place it elsewhere."""

    class Meta:
        model = Deal

    customer = factory.SubFactory(CustomerFactory)
    title = factory.Sequence(lambda n: f"Deal {n}")
    amount = factory.LazyFunction(lambda: Decimal("1000.00"))
    stage = factory.LazyFunction(
        lambda: Stage.objects.filter(pipeline__is_default=True).order_by("order").first()
    )
    pipeline = factory.LazyAttribute(lambda deal: deal.stage.pipeline)
    probability = factory.LazyAttribute(lambda deal: deal.stage.probability)
    expected_close_date = factory.LazyFunction(timezone.localdate)
    owner = factory.SubFactory(UserFactory)


# --- service desk (issue 4) ---


class TeamFactory(factory.django.DjangoModelFactory[Team]):
    class Meta:
        model = Team
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Team {n}")


class TicketFactory(factory.django.DjangoModelFactory[Ticket]):
    """A new ticket without SLA due times; use service.services.ticket_create for the SLA clock."""

    class Meta:
        model = Ticket
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    subject = factory.Sequence(lambda n: f"Ticket subject {n}")
    description = factory.Faker("paragraph")
    channel = "email"
    category = "question"
    priority = "normal"
    status = "new"

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.set(extracted)


class TicketMessageFactory(factory.django.DjangoModelFactory[TicketMessage]):
    class Meta:
        model = TicketMessage

    ticket = factory.SubFactory(TicketFactory)
    kind = "reply"
    author = factory.SubFactory(UserFactory)
    from_customer = False
    body = factory.Faker("paragraph")


class KnowledgeArticleFactory(factory.django.DjangoModelFactory[KnowledgeArticle]):
    class Meta:
        model = KnowledgeArticle

    title = factory.Sequence(lambda n: f"How to fix problem {n}")
    body = factory.Faker("paragraph")
    is_published = True


class SatisfactionResponseFactory(factory.django.DjangoModelFactory[SatisfactionResponse]):
    class Meta:
        model = SatisfactionResponse

    ticket = factory.SubFactory(
        TicketFactory, status="resolved", resolved_at=factory.LazyFunction(timezone.now)
    )
    score = 5
    comment = ""


# --- analytics (issue 5): orders for the segment runs ---


class OrderFactory(factory.django.DjangoModelFactory[Order]):
    class Meta:
        model = Order

    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: f"ORD-{n:07d}")
    ordered_at = factory.LazyFunction(timezone.now)
    total = factory.LazyFunction(lambda: Decimal("100.00"))


class OrderLineFactory(factory.django.DjangoModelFactory[OrderLine]):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    description = factory.LazyAttribute(lambda line: line.product.name if line.product else "Item")
    quantity = factory.LazyFunction(lambda: Decimal("1"))
    unit_price = factory.LazyFunction(lambda: Decimal("100.00"))


# --- analytics dashboards (issue 5): stored runs and values, written directly ---


class SegmentRunFactory(factory.django.DjangoModelFactory[SegmentRun]):
    """A finished, current run; pass is_current=False for an older one."""

    class Meta:
        model = SegmentRun

    as_of = factory.LazyFunction(timezone.localdate)
    status = "succeeded"
    is_current = True
    progress = 100
    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyFunction(timezone.now)


class CustomerValueFactory(factory.django.DjangoModelFactory[CustomerValue]):
    class Meta:
        model = CustomerValue

    run = factory.SubFactory(SegmentRunFactory)
    customer = factory.SubFactory(CustomerFactory)
    first_purchase = factory.LazyFunction(lambda: timezone.localdate().replace(day=1))
    last_purchase = factory.LazyFunction(timezone.localdate)
    recency_days = 0
    purchase_days = 2
    orders = 2
    revenue = factory.LazyFunction(lambda: Decimal("200.00"))
    average_order_value = factory.LazyFunction(lambda: Decimal("100.00"))
    r_score = 3
    f_score = 3
    m_score = 3
    segment = "need_attention"
    probability_alive = 0.8
    expected_purchases = 1.5
    predicted_ltv = factory.LazyFunction(lambda: Decimal("150.00"))


# --- marketing (issue 6) ---


class CampaignFactory(factory.django.DjangoModelFactory[Campaign]):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    channel = "email"
    owner = factory.SubFactory(UserFactory)
    subject = "Hello"
    body = "Hello there"


class CampaignRecipientFactory(factory.django.DjangoModelFactory[CampaignRecipient]):
    class Meta:
        model = CampaignRecipient

    campaign = factory.SubFactory(CampaignFactory)
    customer = factory.SubFactory(CustomerFactory)


class ConsentFactory(factory.django.DjangoModelFactory[Consent]):
    """A granted consent on a channel (email unless told)."""

    class Meta:
        model = Consent
        django_get_or_create = ["customer", "channel"]

    customer = factory.SubFactory(CustomerFactory)
    channel = "email"
    granted = True
    source = "test"
