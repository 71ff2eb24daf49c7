"""Reads with the access rules: reps see their own deals, managers every deal."""

from django.db.models import QuerySet

from sales.models import Deal, Order, Pipeline, Quote, Stage


def deals_visible_to(user) -> QuerySet[Deal]:
    if not user.has_perm("sales.view_deal"):
        return Deal.objects.none()
    if user.has_perm("sales.view_any_deal"):
        return Deal.objects.all()
    return Deal.objects.filter(owner=user)


def can_change_deal(user, deal: Deal) -> bool:
    if user.has_perm("sales.change_any_deal"):
        return True
    return user.has_perm("sales.change_deal") and deal.owner_id == user.pk


def quotes_visible_to(user) -> QuerySet[Quote]:
    if not user.has_perm("sales.view_quote"):
        return Quote.objects.none()
    return Quote.objects.filter(deal__in=deals_visible_to(user))


def orders_visible_to(user) -> QuerySet[Order]:
    """Managers see every order; reps the orders of the customers they own."""
    if not user.has_perm("sales.view_order"):
        return Order.objects.none()
    if user.has_perm("sales.view_any_deal"):
        return Order.objects.all()
    return Order.objects.filter(customer__owner=user)


def default_pipeline() -> Pipeline:
    return (
        Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.order_by("pk").first()
    )


def pipeline_stages(pipeline: Pipeline) -> QuerySet[Stage]:
    return pipeline.stages.order_by("order", "id")
