from argparse import ArgumentParser

from django.core.management.base import BaseCommand, CommandError

from customers.models import Customer
from devtools.demo import seed_demo
from devtools.demo.customers import DEMO_PASSWORD, DEMO_USERS, ensure_demo_users


class Command(BaseCommand):
    help = "Create the demo users and a reproducible demo data set (Chinese and English customers, two years of history)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--customers", type=int, default=300, help="How many customers (default 300)."
        )
        parser.add_argument(
            "--interactions-per-customer",
            type=int,
            default=5,
            help="Average interactions per customer (default 5).",
        )
        parser.add_argument(
            "--seed", type=int, default=42, help="Random seed; the same seed gives the same data."
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Only create users when customers already exist (for make demo).",
        )

    def handle(
        self,
        *args: object,
        customers: int,
        interactions_per_customer: int,
        seed: int,
        if_empty: bool,
        **options: object,
    ) -> None:
        if customers < 0 or customers > 10_000_000:
            raise CommandError("--customers must be between 0 and 10,000,000.")
        if interactions_per_customer < 0 or interactions_per_customer > 1000:
            raise CommandError("--interactions-per-customer must be between 0 and 1,000.")
        if if_empty and Customer.objects.exists():
            ensure_demo_users()
            self.stdout.write("Customers already exist; demo data left as it is.")
        else:
            result = seed_demo(
                count=customers, interactions_per_customer=interactions_per_customer, seed=seed
            )
            self.stdout.write(
                f"Created {result.customers} customers, {result.interactions} interactions, {result.tasks} tasks."
            )
        self.stdout.write(f"Demo logins (password for each: {DEMO_PASSWORD}):")
        for username, role, _first, _last in DEMO_USERS:
            self.stdout.write(f"  {username:<9} {role}")
