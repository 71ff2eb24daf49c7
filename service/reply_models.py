"""What an agent prepares before sending: drafts of replies and macros (canned replies).

Kept apart from models.py, which imports them, to keep files short.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class ReplyDraft(models.Model):
    """The reply one agent is writing on one ticket, saved as they type; gone once sent."""

    ticket = models.ForeignKey(
        "service.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    body = models.TextField(_("body"), max_length=20_000, blank=True)
    internal = models.BooleanField(_("internal note"), default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("reply draft")
        verbose_name_plural = _("reply drafts")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "author"], name="one_draft_per_agent")
        ]

    def __str__(self):
        return f"{self.ticket_id} / {self.author_id}"


class Macro(models.Model):
    """A saved reply with personalisation fields and optional actions on the ticket.

    Personal (owner set: only its owner sees it) or shared (owner empty: every agent sees it,
    managers write it)."""

    name = models.CharField(_("name"), max_length=120)
    body = models.TextField(
        _("text"),
        max_length=20_000,
        help_text=_("Fields: {{ customer.name }}, {{ agent.name }}, {{ ticket.number }} …"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty for a macro shared with every agent."),
    )
    # Ticket.Status and Priority values (models.py imports this module; the form checks them).
    set_status = models.CharField(_("set status"), max_length=10, blank=True)
    set_priority = models.CharField(_("set priority"), max_length=10, blank=True)
    set_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assign to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    add_tags = models.ManyToManyField(
        "customers.Tag", verbose_name=_("add tags"), blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("macro")
        verbose_name_plural = _("macros")
        permissions = [("share_macro", _("Can write macros shared with every agent"))]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("service:macro-edit", args=[self.pk])

    @property
    def shared(self) -> bool:
        return self.owner_id is None
