"""Lighter writes of the loyalty ledger, for an import's million earned entries:

- one unique index of the entries' orders instead of a plain one beside a partial unique
  one: only earned entries name an order (a check says so now), so the plain unique index
  keeps "an order earns once" and serves the lookups by order;
- no separate index on the customer key: (customer, -created_at) covers it.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0021_customerimport_mapping_status"),
        ("marketing", "0011_timeline_indexes"),
        ("sales", "0015_order_total_reporting"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunSQL(  # none expected: only loyalty_earn ever set an entry's order
            "UPDATE marketing_loyaltyentry SET order_id = NULL WHERE kind <> 'earned'",
            migrations.RunSQL.noop,
        ),
        migrations.RemoveConstraint(
            model_name="loyaltyentry",
            name="loyalty_order_earns_once",
        ),
        migrations.AlterField(
            model_name="loyaltyentry",
            name="customer",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="loyalty_entries",
                to="customers.customer",
                verbose_name="customer",
            ),
        ),
        migrations.AlterField(
            model_name="loyaltyentry",
            name="order",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="sales.order",
                verbose_name="order",
            ),
        ),
        migrations.AddConstraint(
            model_name="loyaltyentry",
            constraint=models.UniqueConstraint(fields=("order",), name="loyalty_order_earns_once"),
        ),
        migrations.AddConstraint(
            model_name="loyaltyentry",
            constraint=models.CheckConstraint(
                condition=models.Q(("order__isnull", True), ("kind", "earned"), _connector="OR"),
                name="loyalty_order_only_earned",
            ),
        ),
    ]
