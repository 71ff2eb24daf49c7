"""The roles' macro permissions (crm.roles): agents their own macros, managers shared ones."""

from django.db import migrations


def grant(apps, schema_editor):
    from crm.roles import grant_role_permissions

    grant_role_permissions(apps, "service")


class Migration(migrations.Migration):
    dependencies = [('service', '0013_macros_and_drafts')]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
