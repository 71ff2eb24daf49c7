"""Status badge colours are defined once per model and shown the same on every page."""

import pytest
from django.template import Context, Template

from customers.models import CustomerImport
from sales.models import Deal, OrderImport, Quote

# The colours the templates wrote out before the tag (deal list, detail and panel; quote
# detail and list; the order and customer import pages).
BEFORE: dict[type[Deal | Quote | OrderImport | CustomerImport], str] = {
    Deal: "{% if o.status == 'won' %}text-bg-success{% elif o.status == 'lost' %}"
    "text-bg-secondary{% else %}text-bg-light border{% endif %}",
    Quote: "{% if o.status == 'accepted' %}text-bg-success{% elif o.status == 'rejected' %}"
    "text-bg-danger{% elif o.status == 'sent' %}text-bg-primary{% else %}text-bg-light border"
    "{% endif %}",
    OrderImport: "{% if o.status == 'applied' %}text-bg-success{% elif o.status == 'pending' %}"
    "text-bg-warning{% else %}text-bg-secondary{% endif %}",
    CustomerImport: "{% if o.status == 'applied' %}text-bg-success{% elif o.status == 'failed' %}"
    "text-bg-danger{% elif o.status == 'pending' %}text-bg-warning{% else %}text-bg-secondary"
    "{% endif %}",
}


@pytest.mark.parametrize(
    ("model", "status"),
    [(model, status) for model in BEFORE for status in model.Status.values],
)
def test_every_status_keeps_its_colour(model, status):
    obj = model(status=status)
    before = Template(BEFORE[model]).render(Context({"o": obj}))
    after = Template("{% load status_badges %}{{ o|status_badge }}").render(Context({"o": obj}))
    assert after == before


def test_something_without_colours_is_neutral():
    rendered = Template("{% load status_badges %}{{ o|status_badge }}")
    assert rendered.render(Context({"o": object()})) == "text-bg-light border"
    assert rendered.render(Context({"o": Deal(status="unknown")})) == "text-bg-light border"
