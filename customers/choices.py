"""Value lists of the customers app that modules without models validate against
(marketing.audience_rule); the models use them too."""

from datetime import time

from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerStage(models.TextChoices):
    """The lifecycle stage (Customer.Stage)."""

    LEAD = "lead", _("Lead")
    PROSPECT = "prospect", _("Prospect")
    CUSTOMER = "customer", _("Customer")
    CHURNED = "churned", _("Churned")


class Reminder(models.IntegerChoices):
    """Minutes before a task's due time."""

    AT_DUE = 0, _("At the due time")
    MIN_15 = 15, _("15 minutes before")
    HOUR_1 = 60, _("1 hour before")
    DAY_1 = 1440, _("1 day before")


DEFAULT_DUE_TIME = time(9, 0)  # a task due on a day without a time: the working day's start
