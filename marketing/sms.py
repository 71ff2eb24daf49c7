"""Text messages: a small backend interface, like Django's email backends.

The backend is named by the CRM_SMS_BACKEND setting (a dotted path); the default prints
messages to the console. A provider's backend subclasses BaseSmsBackend and raises
SmsRefused for a permanent refusal (unknown or barred number: the recipient is marked
bounced) and SmsError for anything worth retrying.
"""

import sys
import threading
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_BACKEND = "marketing.sms.ConsoleSmsBackend"


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str


class SmsError(Exception):
    """A temporary failure: the message may be retried."""


class SmsRefused(SmsError):
    """A permanent refusal: retrying will not help."""


class BaseSmsBackend:
    def send(self, message: SmsMessage) -> None:
        """Hand one message to the provider; raise SmsError or SmsRefused when it does not."""
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    """Writes messages to standard output (the demo and development)."""

    _lock = threading.Lock()

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send(self, message: SmsMessage) -> None:
        with self._lock:
            self.stream.write(f"SMS to {message.to}\n{message.body}\n{'-' * 40}\n")
            self.stream.flush()


class LocmemSmsBackend(BaseSmsBackend):
    """Keeps messages in `outbox` (tests); numbers in `refused` are refused permanently."""

    outbox: list[SmsMessage] = []
    refused: set[str] = set()

    def send(self, message: SmsMessage) -> None:
        if message.to in self.refused:
            raise SmsRefused(f"number {message.to} refused")
        self.outbox.append(message)


def get_sms_backend() -> BaseSmsBackend:
    path = settings.CRM_SMS_BACKEND or DEFAULT_BACKEND
    return import_string(path)()
