"""Reads of the analytics app. Only the current run's rows are ever read as "the" values,
so a run being written (or one that failed) is invisible until it is published."""

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from analytics.models import (
    CustomerValue,
    ProductAffinity,
    Recommendation,
    SegmentRun,
)
from customers.models import Customer
from sales.models import Product


def current_run() -> SegmentRun | None:
    return SegmentRun.objects.filter(is_current=True).first()


def latest_run() -> SegmentRun | None:
    """The newest run whatever its status (what the progress display follows)."""
    return SegmentRun.objects.order_by("-created_at", "-id").first()


def active_run() -> SegmentRun | None:
    """The run queued or running, if any (at most one: the one_active_run constraint)."""
    return SegmentRun.objects.filter(status__in=SegmentRun.ACTIVE_STATUSES).first()


def runs_visible_to(user: User | AnonymousUser) -> QuerySet[SegmentRun]:
    if not user.has_perm("analytics.view_segmentrun"):
        return SegmentRun.objects.none()
    return SegmentRun.objects.all()


def customer_value(customer: Customer, run: SegmentRun | None = None) -> CustomerValue | None:
    """The customer's values in the current run (or `run`), or None."""
    run = run or current_run()
    if run is None:
        return None
    return CustomerValue.objects.filter(run=run, customer=customer).select_related("run").first()


def recommendations_for(
    customer: Customer, limit: int = 5, run: SegmentRun | None = None
) -> QuerySet[Recommendation]:
    """The current run's (or `run`'s) recommended products for the customer, best first."""
    run = run or current_run()
    if run is None:
        return Recommendation.objects.none()
    return (
        Recommendation.objects.filter(run=run, customer=customer)
        .select_related("product")
        .order_by("rank")[:limit]
    )


def related_products(product: Product, limit: int = 10) -> QuerySet[ProductAffinity]:
    """Customers who bought `product` also bought these (current run), best first."""
    run = current_run()
    if run is None:
        return ProductAffinity.objects.none()
    return (
        ProductAffinity.objects.filter(run=run, product=product)
        .select_related("related")
        .order_by("-score", "related_id")[:limit]
    )
