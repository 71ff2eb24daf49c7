"""A phone column without separators, so a search by digits finds any written form.

On PostgreSQL it gets a trigram index like the other searched columns (0003).
"""

import django.db.models.functions.text
from django.db import migrations, models


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS customer_phone_digits_trgm "
            "ON customers_customer USING gin (phone_digits gin_trgm_ops)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS customer_phone_digits_trgm")


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0009_customer_region_name_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='customer',
            name='phone_digits',
            field=models.GeneratedField(db_persist=True, expression=django.db.models.functions.text.Replace(django.db.models.functions.text.Replace(django.db.models.functions.text.Replace(django.db.models.functions.text.Replace(django.db.models.functions.text.Replace(django.db.models.functions.text.Replace(django.db.models.functions.text.Replace(models.F('phone'), models.Value(' '), models.Value('')), models.Value('+'), models.Value('')), models.Value('('), models.Value('')), models.Value(')'), models.Value('')), models.Value('.'), models.Value('')), models.Value('/'), models.Value('')), models.Value('-'), models.Value('')), output_field=models.CharField(max_length=30)),
        ),
        migrations.RunPython(create_index, drop_index),
    ]
