"""Value lists of the customers app that modules without models validate against
(marketing.audience_rule); the models use them too."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerStage(models.TextChoices):
    """The lifecycle stage (Customer.Stage)."""

    LEAD = "lead", _("Lead")
    PROSPECT = "prospect", _("Prospect")
    CUSTOMER = "customer", _("Customer")
    CHURNED = "churned", _("Churned")
