"""python manage.py import_all DIR [--replace]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from integrations.restoring import RestoreError, import_all


class Command(BaseCommand):
    help = (
        "Restore an export_all directory into this database (migrated to the export's state). "
        "All or nothing. Users come back without passwords (set new ones); run "
        "compute_segments afterwards for the analytics."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help="A directory written by export_all.")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Empty the exported and derived tables first (a freshly migrated database "
            "already holds the default pipeline, roles and SLA policies).",
        )

    def handle(self, *args, directory: Path, replace: bool, **options: object) -> None:
        try:
            report = import_all(directory=directory, replace=replace)
        except OSError as error:
            raise CommandError(f"{directory}: {error.strerror or error}") from error
        except (RestoreError, DatabaseError) as error:
            raise CommandError(f"Nothing was restored. {error}") from error
        for label, rows in report.rows.items():
            self.stdout.write(f"{rows:>10}  {label}")
        self.stdout.write("Restored. Next: manage.py compute_segments")
