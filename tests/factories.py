"""factory_boy factories for every model the tests create."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from customers.models import Contact, Customer, Interaction, Tag, Task
from sales.models import Deal, Product, Stage


class UserFactory(factory.django.DjangoModelFactory):
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


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"tag{n}")


class CustomerFactory(factory.django.DjangoModelFactory):
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


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory, kind=Customer.Kind.COMPANY)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    summary = factory.Faker("sentence")
    occurred_at = factory.LazyFunction(timezone.now)


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    customer = factory.SubFactory(CustomerFactory)
    assignee = factory.SubFactory(UserFactory)
    title = factory.Faker("sentence", nb_words=4)
    due_date = factory.LazyFunction(timezone.localdate)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    unit_price = factory.LazyFunction(lambda: Decimal("100.00"))
    tax_rate = factory.LazyFunction(lambda: Decimal("13.00"))


class DealFactory(factory.django.DjangoModelFactory):
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
