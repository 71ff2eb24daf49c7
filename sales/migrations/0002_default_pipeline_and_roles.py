"""The default pipeline (admins may edit it) and the roles' sales permissions."""

from django.db import migrations

DEFAULT_STAGES = [
    # name, default win probability, won, lost
    ("Qualification", 10, False, False),
    ("Needs analysis", 25, False, False),
    ("Proposal", 50, False, False),
    ("Negotiation", 75, False, False),
    ("Won", 100, True, False),
    ("Lost", 0, False, True),
]


def create(apps, schema_editor):
    from crm.roles import grant_role_permissions

    pipeline_model = apps.get_model("sales", "Pipeline")
    stage_model = apps.get_model("sales", "Stage")
    pipeline, _created = pipeline_model.objects.get_or_create(name="Sales", defaults={"is_default": True})
    for order, (name, probability, won, lost) in enumerate(DEFAULT_STAGES, start=1):
        stage_model.objects.get_or_create(
            pipeline=pipeline,
            name=name,
            defaults={"order": order, "probability": probability, "is_won": won, "is_lost": lost},
        )
    grant_role_permissions(apps, "sales")


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0001_initial"),
        ("customers", "0002_roles"),
    ]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
