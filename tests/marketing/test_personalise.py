"""Personalisation is sandboxed: only the listed fields, no tags that reach anything else."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from marketing.models import Campaign
from marketing.personalise import (
    Personalisation,
    check_template,
    compile_template,
    personalisation_for,
    render,
    render_subject,
)
from marketing.services.preview import preview_for
from tests.factories import (
    CampaignFactory,
    ConsentFactory,
    CustomerFactory,
    ProductFactory,
    SegmentRunFactory,
    UserFactory,
)

FIELDS = Personalisation(
    name="Ada Lovelace",
    first_name="Ada",
    owner="Rita",
    coupon_code="BACK-ABC",
    offer="10% off",
    unsubscribe_link="https://crm.example/m/unsubscribe/x/",
)


def test_the_listed_fields_render():
    template = compile_template(
        "Dear {{ first_name }} ({{ name|upper }}), {{ owner }} offers {{ offer }} with "
        "{{ coupon_code }}. {% if coupon_code %}Use it!{% else %}No code{% endif %} "
        "Stop: {{ unsubscribe_link }}"
    )
    assert render(template, FIELDS) == (
        "Dear Ada (ADA LOVELACE), Rita offers 10% off with BACK-ABC. Use it! "
        "Stop: https://crm.example/m/unsubscribe/x/"
    )


def test_text_is_not_html_escaped_and_subjects_are_one_line():
    fields = Personalisation(**{**FIELDS.__dict__, "name": "Tom & <Jerry>\nBcc: x@evil"})
    assert render(compile_template("{{ name }}"), fields) == "Tom & <Jerry>\nBcc: x@evil"
    assert (
        render_subject(compile_template("Hi {{ name }}"), fields) == "Hi Tom & <Jerry> Bcc: x@evil"
    )


@pytest.mark.parametrize(
    "source",
    [
        "{{ customer.owner.password }}",
        "{{ settings.SECRET_KEY }}",
        "{{ request.user }}",
        "{{ user.password }}",
        "{{ csrf_token }}",
        "{{ perms }}",
    ],
)
def test_nothing_else_is_reachable_and_such_fields_are_refused(source):
    assert render(compile_template(source), FIELDS) == ""
    with pytest.raises(ValidationError):
        check_template(source)


def test_lookups_on_fields_are_refused_on_save():
    """A field is a plain string: `.upper` is harmless but not the language we offer."""
    with pytest.raises(ValidationError, match="name.upper"):
        check_template("{{ name.upper }}")


@pytest.mark.parametrize(
    "source",
    [
        "{% debug %}",
        "{% load static %}",
        '{% include "base.html" %}',
        '{% extends "base.html" %}',
        '{% ssi "/etc/passwd" %}',
        "{% for c in name %}{{ c }}{% endfor %}",
        '{% now "Y" %}',
        "{% csrf_token %}",
        "{% url 'admin:index' %}",
        '{{ name|ljust:"999999999" }}',
        "{{ name|pprint }}",
        "{{ name.__class__ }}",
        "{% if %}",
    ],
)
def test_tags_and_filters_outside_the_sandbox_are_refused(source):
    with pytest.raises(ValidationError) as error:
        check_template(source)
    assert "Allowed fields" in " ".join(error.value.messages)


@pytest.mark.django_db
def test_a_campaign_with_a_forbidden_template_is_refused_on_save_with_a_field_error(
    marketer, marketer_client
):
    data = {
        "name": "Sneaky",
        "channel": "email",
        "status": "draft",
        "owner": marketer.pk,
        "budget": "0",
        "actual_cost": "0",
        "attribution_days": "30",
        "subject": "Hi {{ customer.owner.password }}",
        "body": "{% load static %}{% debug %}",
    }
    response = marketer_client.post(reverse("marketing:campaign-create"), data)
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "customer.owner.password" in errors["subject"][0]
    assert "load" in errors["body"][0]
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_the_fields_come_from_the_customer_and_recommendations_from_analytics():
    owner = UserFactory(first_name="Rita", last_name="Reyes")
    customer = CustomerFactory(name="Ada Lovelace", owner=owner)
    fields = personalisation_for(customer, coupon_code="C", offer="", unsubscribe_link="L")
    assert (fields.first_name, fields.owner, fields.recommended_products) == (
        "Ada",
        "Rita Reyes",
        "",
    )
    run = SegmentRunFactory()
    from analytics.models import Recommendation

    for rank, name in enumerate(["Tea", "Cups", "Pot", "Spoon"], start=1):
        Recommendation.objects.create(
            run=run, customer=customer, product=ProductFactory(name=name), rank=rank, score=1
        )
    fields = personalisation_for(customer, coupon_code="C", offer="", unsubscribe_link="L")
    assert fields.recommended_products == "Tea, Cups, Pot"


@pytest.mark.django_db
def test_a_stored_template_that_bypassed_validation_still_reaches_nothing(settings):
    settings.SECRET_KEY = "the-secret-key-value-for-this-test"
    customer = CustomerFactory(name="Ada Lovelace", owner=UserFactory(password="x"))
    ConsentFactory(customer=customer)
    campaign = CampaignFactory(
        subject="{{ settings.SECRET_KEY }}",
        body="[{{ customer.owner.password }}][{{ owner.password }}][{{ name }}]",
    )
    preview = preview_for(campaign, customer)
    assert preview.subject == ""
    assert preview.body.startswith("[][][Ada Lovelace]")
    assert "secret-key" not in preview.body
