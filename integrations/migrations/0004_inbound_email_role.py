from django.db import migrations


def grant(apps, schema_editor):
    """Managers read every inbound email's original (crm/roles.py, _INTEGRATIONS_ALL)."""
    from crm.roles import grant_role_permissions

    grant_role_permissions(apps, "integrations")


class Migration(migrations.Migration):
    dependencies = [("integrations", "0003_mailbox_inboundemail")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
