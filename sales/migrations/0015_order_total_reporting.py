"""Order.total_reporting: each order's total in CRM_CURRENCY at its day's rate, filled for
the orders already there (one UPDATE), and the order statistics' triggers reinstalled to
sum it (sales.order_stats) with the table rebuilt. On SQLite the last-order triggers of 0007
are reinstalled too (a table remade by an earlier AlterField lost them). The triggers are dropped during the
fill, so it does not recount every customer."""

from importlib import import_module

from django.db import migrations, models

from sales import order_stats, reporting_totals

last_order = import_module("sales.migrations.0007_customer_last_order")


def convert_and_reinstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    order_stats.uninstall(schema_editor.execute, vendor)
    with schema_editor.connection.cursor() as cursor:
        reporting_totals.orders_convert_all(cursor)
    order_stats.install(schema_editor.execute, vendor, order_stats.zone_name())
    if vendor == "sqlite":
        # 0011's AlterField remade sales_order on SQLite, which drops a table's triggers:
        # CustomerLastOrder's (0007) come back here, with the table refilled.
        last_order.drop_triggers(apps, schema_editor)
        schema_editor.execute(f"DELETE FROM {last_order.LAST}")  # noqa: S608 - fixed name
        last_order.create_triggers(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0012_notification_preference"),
        ("sales", "0014_normalise_currency_codes"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="total_reporting",
            field=models.DecimalField(
                blank=True,
                db_default=None,
                decimal_places=2,
                editable=False,
                max_digits=14,
                null=True,
                verbose_name="total in the reporting currency",
            ),
        ),
        migrations.RunPython(convert_and_reinstall, migrations.RunPython.noop),
    ]
