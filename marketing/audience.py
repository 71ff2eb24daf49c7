"""The customers an audience rule (marketing.audience_rule) reaches on a channel.

Criteria combine with AND; the values inside one list with OR. Segment, LTV and
probability-alive criteria read the CURRENT analytics run only (a customer without a
value in it does not match them).

Consent: every campaign channel maps to the customers' consent channel of the same
nature, and only customers whose consent on it is granted are reached, for the phone
list and direct mail too: the consent table records phone and mail choices, a customer
who said no to marketing calls or letters must not get them, and opting in is the
lawful default in the markets we serve (PIPL, GDPR/ePrivacy). A customer also needs the
address the channel uses (email, phone number, or a street address for mail).

Each criterion is a semi-join (`pk IN (subquery)`) whose subquery an index answers in
customer id order, so the count and the sample are merge joins of index-only scans (see
_merge_joins, and make bench-audience for the figures on 1,000,000 customers). The
last-purchase window reads sales.CustomerLastOrder (one row per customer, kept by
triggers), not the orders: 90 days of 10,000,000 orders are 2,500,000 rows. A segment's
semi-join is a merge only if the planner knows the run's size (the partitioned table's
statistics) and index-only only once the run's table is vacuumed: both are done when a
run is published (analytics.pipeline.partitions).
"""

from contextlib import contextmanager
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import Combinable
from django.utils import timezone

from analytics.models import CustomerValue
from analytics.selectors import current_run
from customers.models import EMAIL_REACHABLE, Channel, Consent, Customer
from marketing.audience_rule import AudienceRule
from marketing.models import CampaignChannel, LoyaltyAccount, LoyaltyTier
from marketing.services.loyalty import base_tier
from sales.models import CustomerLastOrder

# Campaign channel -> the customers' consent channel it needs.
CONSENT_CHANNEL: dict[str, Channel] = {
    CampaignChannel.EMAIL: Channel.EMAIL,
    CampaignChannel.SMS: Channel.SMS,
    CampaignChannel.PHONE: Channel.PHONE,
    CampaignChannel.MAIL: Channel.MAIL,
    CampaignChannel.SOCIAL: Channel.SOCIAL,
}
# The address a channel needs: a customer without it cannot be reached there.
_REACHABLE: dict[str, Q] = {
    # An address that hard-bounced (customers.Customer.email_bounced) is not reachable.
    CampaignChannel.EMAIL: EMAIL_REACHABLE,
    CampaignChannel.SMS: ~Q(phone=""),
    CampaignChannel.PHONE: ~Q(phone=""),
    CampaignChannel.MAIL: ~Q(address=""),
    CampaignChannel.SOCIAL: Q(),
}


def audience_queryset(rule: AudienceRule | dict, *, channel: str) -> QuerySet[Customer]:
    """The customers the rule matches who consented to (and can be reached on) `channel`."""
    rule = _parsed(rule)
    consented = Consent.objects.filter(channel=CONSENT_CHANNEL[channel], granted=True)
    customers = Customer.objects.filter(_REACHABLE[channel], pk__in=consented.values("customer_id"))
    return customers.filter(_on_customer(rule), *_on_other_tables(rule, "pk"))


def _parsed(rule: AudienceRule | dict) -> AudienceRule:
    return rule if isinstance(rule, AudienceRule) else AudienceRule.from_dict(rule)


def _on_customer(rule: AudienceRule) -> Q:
    """The rule's criteria on the customer's own columns."""
    criteria = Q()
    if rule.stages:
        criteria &= Q(stage__in=rule.stages)
    if rule.key_accounts_only:
        criteria &= Q(is_key_account=True)
    if rule.regions:
        region = Q()
        for name in rule.regions:
            region |= Q(region__iexact=name)
        criteria &= region
    return criteria


def _on_other_tables(rule: AudienceRule, ref: str) -> list[Q | Combinable]:
    """The rule's criteria on other tables, each a semi-join on the customer id `ref` (the
    customer's pk, or a consent's customer_id) in an order the indexes answer."""
    criteria: list[Q | Combinable] = []
    if rule.tags:
        tagged = Customer.tags.through.objects.filter(tag_id__in=rule.tags)
        criteria.append(Q(**{f"{ref}__in": tagged.values("customer_id")}))
    if rule.purchased_within_days:
        since = timezone.now() - timedelta(days=rule.purchased_within_days)
        buyers = CustomerLastOrder.objects.filter(last_ordered_at__gte=since)
        criteria.append(Q(**{f"{ref}__in": buyers.values("customer_id")}))
    if rule.points_min:
        members = LoyaltyAccount.objects.filter(balance__gte=rule.points_min)
        criteria.append(Q(**{f"{ref}__in": members.values("customer_id")}))
    if rule.tiers:
        criteria.append(_in_tiers(rule.tiers, ref))
    if rule.uses_analytics:
        criteria.append(Q(**{f"{ref}__in": _valued(rule).values("customer_id")}))
    return criteria


def _in_tiers(tier_ids: list[int], ref: str) -> Q | Combinable:
    """Customers whose account is in one of the tiers; those without an account are in
    the base tier (no points, no spend), if it is one of them.

    With the base tier, "no account, or an account in the tiers" is written as one
    anti-join (no account outside the tiers): the OR of two semi-joins cannot be a join,
    and PostgreSQL ran its subquery once per customer. "Outside" is the other tiers by id
    (or none, a deleted tier's accounts), which the (tier, customer) index finds: "not in
    these tiers" could only be a filter over every account (make bench-audience: 15,000
    pages read for the 12,000 accounts above Bronze).
    """
    tiers = list(LoyaltyTier.objects.order_by("rank"))
    base = base_tier(tiers)
    if base is not None and base.pk in tier_ids:
        others = [tier.pk for tier in tiers if tier.pk not in tier_ids]
        newest = max(tier.pk for tier in tiers)  # and any tier created since (ids grow)
        outside = LoyaltyAccount.objects.filter(
            Q(tier_id__in=others) | Q(tier_id__gt=newest) | Q(tier__isnull=True),
            customer_id=OuterRef(ref),
        )
        return ~Exists(outside)
    in_tiers = LoyaltyAccount.objects.filter(tier_id__in=tier_ids)
    return Q(**{f"{ref}__in": in_tiers.values("customer_id")})


def _valued(rule: AudienceRule) -> QuerySet[CustomerValue]:
    run = current_run()
    if run is None:
        return CustomerValue.objects.none()
    values = CustomerValue.objects.filter(run=run)
    if rule.segments:
        values = values.filter(segment__in=rule.segments)
    if rule.ltv_min is not None:
        values = values.filter(predicted_ltv__gte=rule.ltv_min)
    if rule.ltv_max is not None:
        values = values.filter(predicted_ltv__lte=rule.ltv_max)
    if rule.alive_min is not None:
        values = values.filter(probability_alive__gte=rule.alive_min)
    if rule.alive_max is not None:
        values = values.filter(probability_alive__lte=rule.alive_max)
    return values


@contextmanager
def _merge_joins():
    """On PostgreSQL, plan the next queries' semi-joins as merge joins.

    Every criterion yields customer ids in order from an index (consent_granted_idx,
    customer_email_ok_cover, analytics_cv_run_segment, last_order_idx,
    loyalty_account_tier_idx, ...), so the criteria can be merged with no hash table.
    PostgreSQL 15 still prefers (parallel) hash joins of whole tables: on 1,000,000
    customers (make bench-audience) they cost 400-830 ms per count, the merge joins
    70-380 ms. Without parallel workers too: a parallel merge join has every worker scan
    the whole inner side, which on two cores made the slowest counts 20-30% slower and
    their spread twice as wide. The settings are reset on leaving (or undone with the
    savepoint on an error), so nothing else is planned this way.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_hashjoin = off")
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield
        cursor.execute("RESET enable_hashjoin")
        cursor.execute("RESET max_parallel_workers_per_gather")


def audience_count(rule: AudienceRule | dict, channel: str) -> int:
    """How many customers audience_queryset holds, counted from the consents.

    A customer has at most one consent per channel (consent_one_per_channel), so the
    consents granted on the channel that meet the rule are the customers. Reachability by
    email is the absence of the customer among the few who cannot be reached (an
    anti-join on customer_email_unreachable_idx) instead of a merge with the 1,000,000
    who can: that merge was half the cost of every email count (make bench-audience:
    "everyone with consent" 140 -> 60 ms of SQL). A rule on the customer's own columns,
    or another channel, meets them in one semi-join on the customers instead.
    """
    rule = _parsed(rule)
    reach, own = _REACHABLE[channel], _on_customer(rule)
    consents = Consent.objects.filter(channel=CONSENT_CHANNEL[channel], granted=True)
    if channel == CampaignChannel.EMAIL and not own:
        unreachable = Customer.objects.filter(pk=OuterRef("customer_id")).exclude(reach)
        consents = consents.filter(~Exists(unreachable))
    elif reach or own:
        customers = Customer.objects.filter(reach, own)
        consents = consents.filter(customer_id__in=customers.values("pk"))
    consents = consents.filter(*_on_other_tables(rule, "customer_id"))
    with _merge_joins():
        return consents.count()


def audience_sample(rule: AudienceRule | dict, channel: str, n: int = 10) -> list[Customer]:
    """A few matching customers to show before sending, sorted by name.

    Any `n` of them, not the first by name: walking the name index until `n` match costs
    seconds on 1,000,000 customers when few (or none) match; taking the first ids the
    semi-joins yield stops early or costs one pass.
    """
    with _merge_joins():
        matching = audience_queryset(rule, channel=channel).order_by()
        ids = list(matching.values_list("pk", flat=True)[:n])
    return list(Customer.objects.filter(pk__in=ids).select_related("owner").order_by("name", "id"))
