"""python manage.py import_orders FILE.csv [--create-customers] [--dry-run]"""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from crm.lib.uploads import ImportFileError, check_binary
from sales.import_services import OrderImportRejected, order_import
from sales.importing import COLUMNS


class Command(BaseCommand):
    help = (
        "Import orders from a CSV file with the columns "
        f"{', '.join(COLUMNS)} (the first three required). All rows or none: any invalid row "
        "writes nothing and the command exits with status 1, listing the rows and why. "
        "Importing a file again creates no duplicates."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="The CSV file (UTF-8).")
        parser.add_argument(
            "--create-customers",
            action="store_true",
            help="Create the customers whose external id is unknown (name = external id).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and count; write nothing."
        )

    def handle(self, *args, file: Path, create_customers: bool, dry_run: bool, **options):
        started = time.perf_counter()
        try:
            with file.open("rb") as stream:
                check_binary(stream)
            with file.open(encoding="utf-8-sig", newline="") as text:
                report = order_import(
                    source=text, create_customers=create_customers, dry_run=dry_run
                )
        except OSError as error:
            raise CommandError(f"{file}: {error.strerror or error}") from error
        except ImportFileError as error:
            raise CommandError(
                f"{file}: nothing was imported. {' '.join(error.messages)}"
            ) from error
        except OrderImportRejected as rejected:
            report = rejected.report
            self._summary(report, time.perf_counter() - started)
            for line in report.error_lines():
                self.stderr.write(line)
            raise CommandError(
                f"{report.error_rows} of {report.rows} rows have errors; nothing was imported."
            ) from rejected
        self._summary(report, time.perf_counter() - started)
        if report.error_rows:  # a dry run
            for line in report.error_lines():
                self.stderr.write(line)
            raise CommandError(
                f"{report.error_rows} of {report.rows} rows have errors; "
                "importing this file would write nothing."
            )

    def _summary(self, report, seconds: float) -> None:
        verb = "would be " if report.dry_run else ""
        self.stdout.write(f"Rows read:          {report.rows}")
        self.stdout.write(f"Orders {verb}created: {report.created}")
        self.stdout.write(f"Already present:    {report.already_present}")
        if report.customers_created:
            self.stdout.write(f"Customers {verb}created: {report.customers_created}")
        if report.unknown_customers:
            self.stdout.write(
                f"Unknown customers:  {len(report.unknown_customers)} "
                f"(in {report.unknown_customer_rows} rows; --create-customers creates them)"
            )
        self.stdout.write(f"Rows with errors:   {report.error_rows}")
        self.stdout.write(f"Time:               {seconds:.1f} s")
        if report.dry_run:
            self.stdout.write("Dry run: nothing was written.")
