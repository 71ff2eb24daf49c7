"""The roles' marketing permissions (as crm/roles.py lists them) and a default loyalty
programme: 1 point per currency unit, Bronze, Silver and Gold tiers (admins edit them)."""

from decimal import Decimal

from django.db import migrations

DEFAULT_TIERS = [
    # name, rank, minimum points earned, minimum 12-month spend
    ("Bronze", 1, 0, None),
    ("Silver", 2, 1000, Decimal("1000.00")),
    ("Gold", 3, 5000, Decimal("5000.00")),
]


def create(apps, schema_editor):
    from crm.roles import grant_role_permissions

    grant_role_permissions(apps, "marketing")
    rule_model = apps.get_model("marketing", "LoyaltyRule")
    tier_model = apps.get_model("marketing", "LoyaltyTier")
    if not rule_model.objects.exists():
        rule_model.objects.create(points_per_unit=Decimal("1"))
    for name, rank, points, spend in DEFAULT_TIERS:
        tier_model.objects.get_or_create(
            name=name, defaults={"rank": rank, "minimum_points": points, "minimum_spend": spend}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("marketing", "0001_initial"),
        ("customers", "0002_roles"),
    ]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
