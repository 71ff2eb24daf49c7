"""Roles are auth groups; this module is the single list of their default permissions.

Each app's data migration calls `grant_role_permissions(apps, "<app_label>")` so a
role gets the permissions of models that exist at that point in the migration
graph. Admins may change the groups afterwards in Django admin; the object-level
rules (a rep edits only their own customers) live in each app's selectors.
"""

from django.utils.translation import gettext_lazy as _

SALES_REP = "Sales rep"
SERVICE_AGENT = "Service agent"
MARKETER = "Marketer"
MANAGER = "Manager"
ADMIN = "Admin"

ROLES = [SALES_REP, SERVICE_AGENT, MARKETER, MANAGER, ADMIN]
ROLE_LABELS = {
    SALES_REP: _("Sales rep"),
    SERVICE_AGENT: _("Service agent"),
    MARKETER: _("Marketer"),
    MANAGER: _("Manager"),
    ADMIN: _("Admin"),
}

_CUSTOMER_READ = [
    "customers.view_customer",
    "customers.view_contact",
    "customers.view_interaction",
    "customers.view_task",
    "customers.view_tag",
]
_CUSTOMER_WORK = [
    "customers.add_interaction",
    "customers.add_task",
    "customers.change_task",
]
_CUSTOMER_ALL = [
    *_CUSTOMER_READ,
    *_CUSTOMER_WORK,
    "customers.add_customer",
    "customers.change_customer",
    "customers.delete_customer",
    "customers.change_any_customer",
    "customers.work_any_customer",
    "customers.add_contact",
    "customers.change_contact",
    "customers.delete_contact",
    "customers.change_interaction",
    "customers.delete_task",
    "customers.add_tag",
    "customers.import_customers",
    "customers.export_customers",
    "customers.merge_customers",
    "customers.erase_customer",
    "customers.access_customer_data",
]

_SALES_WORK = [
    "sales.view_product",
    "sales.view_pipeline",
    "sales.view_stage",
    "sales.view_deal",
    "sales.add_deal",
    "sales.change_deal",
    "sales.view_quote",
    "sales.add_quote",
    "sales.change_quote",
    "sales.view_order",
    "sales.add_order",
]
_SALES_ALL = [
    *_SALES_WORK,
    "sales.view_any_deal",
    "sales.change_any_deal",
    "sales.delete_deal",
    "sales.delete_quote",
    "sales.change_order",
    "sales.import_orders",
    "sales.add_product",
    "sales.change_product",
    # Quotas per rep and month (the team view), set by managers.
    "sales.view_quota",
    "sales.add_quota",
    "sales.change_quota",
    "sales.delete_quota",
]

_TICKET_READ = [
    "service.view_ticket",
    "service.view_ticketmessage",
    "service.view_satisfactionresponse",
    "service.view_knowledgearticle",
]
_SERVICE_WORK = [
    *_TICKET_READ,
    "service.view_any_ticket",
    "service.add_ticket",
    "service.change_ticket",
    "service.work_ticket",
    "service.add_ticketmessage",
    "service.view_team",
    "service.add_knowledgearticle",
    "service.change_knowledgearticle",
    "service.view_articlecategory",
    # Personal macros; shared ones are the managers' (share_macro).
    "service.view_macro",
    "service.add_macro",
    "service.change_macro",
    "service.delete_macro",
]
_SERVICE_ALL = [
    *_SERVICE_WORK,
    "service.share_macro",
    "service.delete_ticket",
    "service.delete_knowledgearticle",
    "service.view_slapolicy",
    "service.change_slapolicy",
    "service.view_escalation",
]

# Segments are read by everyone who plans work on customers; values and runs by managers.
_SEGMENTS_READ = ["analytics.view_segmentrun", "analytics.view_customervalue"]
_ANALYTICS_ALL = [
    *_SEGMENTS_READ,
    "analytics.run_segments",
    "analytics.view_value_report",
    "analytics.view_pipeline_report",
    "analytics.view_service_report",
]

_MARKETING_READ = [
    "marketing.view_campaign",
    "marketing.view_campaignrecipient",
    "marketing.view_loyaltyentry",
    "marketing.view_loyaltytier",
]
_MARKETING_WORK = [
    *_MARKETING_READ,
    "marketing.add_campaign",
    "marketing.change_campaign",
    "marketing.send_campaign",
    "marketing.change_campaignrecipient",
    "marketing.add_loyaltyentry",
]
_MARKETING_ALL = [
    *_MARKETING_WORK,
    "marketing.change_any_campaign",
    "marketing.delete_campaign",
    "marketing.view_loyaltyrule",
    "marketing.change_loyaltyrule",
    "marketing.add_loyaltytier",
    "marketing.change_loyaltytier",
    "marketing.delete_loyaltytier",
    "marketing.view_loyaltyaccount",
]

# Webhook endpoints: every manager sees and changes all of them (they are the company's).
_INTEGRATIONS_ALL = [
    "integrations.view_webhookendpoint",
    "integrations.add_webhookendpoint",
    "integrations.change_webhookendpoint",
    "integrations.delete_webhookendpoint",
    "integrations.view_webhookdelivery",
    "integrations.change_webhookdelivery",
    # Every inbound email that became something or was ignored, with its original
    # (integrations/mail/access.py); quarantined ones stay the admins'.
    "integrations.view_inboundemail",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    SALES_REP: [
        *_CUSTOMER_READ,
        *_CUSTOMER_WORK,
        "customers.add_customer",
        "customers.change_customer",
        "customers.add_contact",
        "customers.change_contact",
        "customers.delete_contact",
        "customers.add_tag",
        "customers.import_customers",
        "customers.export_customers",
        *_SALES_WORK,
        *_TICKET_READ,
        *_SEGMENTS_READ,
        "analytics.view_pipeline_report",
        *_MARKETING_READ,
    ],
    SERVICE_AGENT: [
        *_CUSTOMER_READ,
        *_CUSTOMER_WORK,
        "customers.work_any_customer",
        "customers.change_customer_contact_details",
        "customers.add_contact",
        "customers.change_contact",
        "customers.delete_contact",
        *_SERVICE_WORK,
        "analytics.view_service_report",
    ],
    MARKETER: [
        *_CUSTOMER_READ,
        "customers.export_customers",
        *_SEGMENTS_READ,
        "analytics.view_value_report",
        *_MARKETING_WORK,
    ],
    MANAGER: [
        *_CUSTOMER_ALL,
        *_SALES_ALL,
        *_SERVICE_ALL,
        *_ANALYTICS_ALL,
        *_MARKETING_ALL,
        *_INTEGRATIONS_ALL,
    ],
    ADMIN: [
        *_CUSTOMER_ALL,
        *_SALES_ALL,
        *_SERVICE_ALL,
        *_ANALYTICS_ALL,
        *_MARKETING_ALL,
        *_INTEGRATIONS_ALL,
    ],
}


def grant_role_permissions(apps, app_label: str) -> None:
    """Create the role groups and give them this app's permissions (for data migrations)."""
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrate; create them now so they can be granted.
    app_config = apps.get_app_config(app_label)
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _created = group_model.objects.get_or_create(name=role)
        codenames = [p.split(".", 1)[1] for p in perms if p.startswith(f"{app_label}.")]
        group.permissions.add(
            *permission_model.objects.filter(
                content_type__app_label=app_label, codename__in=codenames
            )
        )
