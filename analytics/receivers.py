"""How analytics reacts to what other apps tell it."""

from datetime import timedelta

from django.dispatch import receiver

from customers.demo import demo_data_seeded


# analytics comes after sales in INSTALLED_APPS, so this receiver, connected in a later
# AppConfig.ready(), runs after sales has created the demo orders.
@receiver(demo_data_seeded, dispatch_uid="analytics-demo-data")
def compute_demo_segments(sender, *, today, **kwargs):
    """Two runs, 30 days apart, so the demo dashboards show segments and their migration."""
    from analytics.services import run_compute_now

    run_compute_now(as_of=today - timedelta(days=30))
    run_compute_now(as_of=today)
