"""python manage.py export_all DIR"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.exporting import MANIFEST, export_all


class Command(BaseCommand):
    help = (
        "Export every table users created as CSV files in DIR, with manifest.json (each file's "
        "table, row count, columns and sha256, the time, the version and migrations). Restore "
        "with import_all; import/customers.csv and import/orders.csv are in the importers' "
        "layouts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help="Where to write (created if missing).")

    def handle(self, *args, directory: Path, **options: object) -> None:
        try:
            report = export_all(directory=directory)
        except OSError as error:
            raise CommandError(f"{directory}: {error.strerror or error}") from error
        for exported in report.files:
            self.stdout.write(f"{exported.rows:>10}  {exported.file}")
        self.stdout.write(f"Written: {directory / MANIFEST}")
