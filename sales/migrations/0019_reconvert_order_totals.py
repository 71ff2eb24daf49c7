"""Order.total_reporting converted again for every order: the conversion that 0015 ran (and
that every change of exchange rates ran since) read the rate of any currency, not the
order's own, for orders outside the reporting currency (sales.reporting_totals). The order
statistics' triggers are dropped during the fill and reinstalled with the table rebuilt, as
in 0015, so the UPDATE does not recount every customer row by row."""

from django.db import migrations

from sales import order_stats, reporting_totals


def reconvert(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    order_stats.uninstall(schema_editor.execute, vendor)
    with schema_editor.connection.cursor() as cursor:
        reporting_totals.orders_convert_all(cursor)
    order_stats.install(schema_editor.execute, vendor, order_stats.zone_name())


class Migration(migrations.Migration):
    dependencies = [("sales", "0018_deal_closed_cover")]

    operations = [migrations.RunPython(reconvert, migrations.RunPython.noop, elidable=True)]
