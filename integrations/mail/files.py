"""Feeding .eml and .mbox files through the one ingestion path (import_mail): for moving an
old mailbox into the CRM, and for tests. A file that starts like an mbox ("From ") is
read as one whatever its name; anything else is one message."""

import mailbox as mbox_format
from collections.abc import Iterator
from pathlib import Path

from integrations.mail.imap import PollResult
from integrations.mail.ingest import ingest_raw
from integrations.models import Mailbox


class UnreadableFile(Exception):
    pass


def check_readable(paths: list[Path]) -> None:
    """Every file exists and opens, before any message is stored."""
    for path in paths:
        try:
            with path.open("rb") as stream:
                stream.read(1)
        except OSError as error:
            raise UnreadableFile(f"{path}: {error.strerror or error}") from error


def is_mbox(path: Path) -> bool:
    with path.open("rb") as stream:
        return path.suffix.lower() == ".mbox" or stream.read(5) == b"From "


def messages_in(path: Path) -> Iterator[bytes]:
    if not is_mbox(path):
        yield path.read_bytes()
        return
    box = mbox_format.mbox(path, create=False)
    try:
        for key in box.iterkeys():
            yield box.get_bytes(key)
    finally:
        box.close()


def import_files(*, mailbox: Mailbox, paths: list[Path]) -> PollResult:
    check_readable(paths)
    result = PollResult(mailbox.name)
    for path in paths:
        for raw in messages_in(path):
            if raw.strip():
                result.count(*ingest_raw(mailbox=mailbox, raw=raw))
    return result
