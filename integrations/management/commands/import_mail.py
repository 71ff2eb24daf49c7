"""python manage.py import_mail --mailbox NAME FILE..."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.mail.files import UnreadableFile, import_files
from integrations.models import Mailbox


class Command(BaseCommand):
    help = (
        "Feed .eml and .mbox files through the mailbox's ingestion, as if they had arrived "
        "in it: each message is stored once (a second import stores nothing) and processed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mailbox", required=True, help="The mailbox's name.")
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")

    def handle(self, *args, mailbox: str, files: list[Path], **options: object) -> None:
        target = Mailbox.objects.filter(name=mailbox).first()
        if target is None:
            raise CommandError(f"No mailbox is named {mailbox!r}.")
        try:
            result = import_files(mailbox=target, paths=files)
        except UnreadableFile as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"{result.stored} stored, {result.duplicates} duplicates, "
            f"{result.quarantined} quarantined ({result.fetched} messages read)"
        )
