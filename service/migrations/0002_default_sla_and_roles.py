"""Default SLA policies (admins may edit them) and the roles' service permissions."""

from django.db import migrations

DEFAULT_POLICIES = [
    # priority, first response minutes, resolution minutes, business hours only
    ("urgent", 30, 4 * 60, False),
    ("high", 2 * 60, 24 * 60, False),
    ("normal", 4 * 60, 3 * 9 * 60, True),
    ("low", 9 * 60, 5 * 9 * 60, True),
]


def create(apps, schema_editor):
    from crm.roles import grant_role_permissions

    policy_model = apps.get_model("service", "SLAPolicy")
    for priority, first_response, resolution, business_hours in DEFAULT_POLICIES:
        policy_model.objects.get_or_create(
            priority=priority,
            defaults={
                "first_response_minutes": first_response,
                "resolution_minutes": resolution,
                "business_hours_only": business_hours,
                "raise_priority_on_breach": priority in ("normal", "low"),
            },
        )
    apps.get_model("service", "Team").objects.get_or_create(name="Support")
    grant_role_permissions(apps, "service")


class Migration(migrations.Migration):
    dependencies = [
        ("service", "0001_initial"),
        ("sales", "0002_default_pipeline_and_roles"),
    ]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
