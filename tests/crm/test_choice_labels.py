"""`get_FOO_display()` of the listed models (crm.lib.choice_labels) shows what Django's
own shows, in every language, for every value and for a value outside the choices."""

import pytest
from django.db import models
from django.utils import translation

from crm.lib.choice_labels import ChoiceLabels
from customers.models import Customer, Interaction
from marketing.models import Campaign
from sales.models import Deal, Order, Quote
from service.models import Ticket

MODELS = [Customer, Interaction, Deal, Order, Quote, Ticket, Campaign]


def choice_fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if f.choices and not f.is_relation]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_labels_are_djangos(model, language):
    assert issubclass(model, ChoiceLabels)
    fields = choice_fields(model)
    assert fields, f"{model.__name__} lists no choices: it needs no ChoiceLabels"
    obj = model()
    with translation.override(language):
        for field in fields:
            for value in [*(v for v, _label in field.flatchoices), "not-a-choice", None]:
                setattr(obj, field.attname, value)
                ours = getattr(obj, f"get_{field.name}_display")()
                assert ours == models.Model._get_FIELD_display(obj, field), (field, value)
                assert type(ours) is type(models.Model._get_FIELD_display(obj, field))


def test_a_label_is_translated_on_each_call():
    ticket = Ticket(status=Ticket.Status.NEW)
    with translation.override("en"):
        english = ticket.get_status_display()
    with translation.override("zh-hans"):
        chinese = ticket.get_status_display()
    assert english == "New" and chinese != english
