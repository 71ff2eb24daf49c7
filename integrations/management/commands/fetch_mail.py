"""python manage.py fetch_mail [--mailbox NAME]"""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.mail.imap import PollResult, fetch_mailbox
from integrations.models import Mailbox


def summary(result: PollResult) -> str:
    return (
        f"{result.mailbox}: {result.fetched} fetched, {result.stored} stored, "
        f"{result.duplicates} already stored, {result.quarantined} quarantined"
    )


class Command(BaseCommand):
    help = (
        "Fetch new messages from every active mailbox (or the one named) over IMAP, as the "
        "beat task does, and print what became of them. Read-only on the server."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mailbox", help="The mailbox's name (Django admin, Mailboxes).")

    def handle(self, *args, mailbox: str | None = None, **options: object) -> None:
        mailboxes = Mailbox.objects.filter(is_active=True)
        if mailbox is not None:
            mailboxes = Mailbox.objects.filter(name=mailbox)
            if not mailboxes.exists():
                raise CommandError(f"No mailbox is named {mailbox!r}.")
        failed = []
        for each in mailboxes:
            result = fetch_mailbox(each)
            if result.skipped:
                self.stdout.write(f"{each.name}: another worker is polling it; skipped")
            elif result.error:
                failed.append(each.name)
                self.stderr.write(f"{each.name}: {result.error}")
            else:
                self.stdout.write(summary(result))
        if failed:
            raise CommandError(f"Could not fetch: {', '.join(failed)}")
