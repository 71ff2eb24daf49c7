"""Template helpers of the ticket conversation."""

from django import template

register = template.Library()

LONG_MESSAGE_CHARS = 700
LONG_MESSAGE_LINES = 12


@register.filter
def is_long_message(body: str) -> bool:
    """A message long enough to be folded behind "Show more" on the ticket page."""
    text = str(body or "")
    return len(text) > LONG_MESSAGE_CHARS or text.count("\n") >= LONG_MESSAGE_LINES
