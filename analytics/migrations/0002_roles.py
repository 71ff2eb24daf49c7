"""The roles' analytics permissions."""

from django.db import migrations


def grant(apps, schema_editor):
    from crm.roles import grant_role_permissions

    grant_role_permissions(apps, "analytics")


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0001_initial"),
        ("service", "0002_default_sla_and_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
