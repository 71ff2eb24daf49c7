"""Reps and agents may remove contacts of the customers they may edit (crm/roles.py)."""

from django.db import migrations


def grant(apps, schema_editor):
    from crm.roles import grant_role_permissions

    grant_role_permissions(apps, "customers")


class Migration(migrations.Migration):
    dependencies = [("customers", "0007_import_in_background")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
