from django.db import migrations


def grant(apps, schema_editor):
    from crm.roles import grant_role_permissions

    grant_role_permissions(apps, "integrations")


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("integrations", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
