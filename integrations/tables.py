"""Which tables the full export holds, and which ones it leaves out (and why).

Every model of every installed app is in exactly one of the two lists below: a test
(tests/integrations/test_export_all.py) fails when a new model is in neither, so whoever
adds a model decides whether a backup must carry it.
"""

from django.apps import apps
from django.db import models

# What users created, directly or through their work: exported, and restored by import_all.
# The order is the restore order (a row's foreign keys point to rows of earlier tables).
EXPORTED = [
    "auth.Group",
    "auth.Group_permissions",
    "auth.User",
    "auth.User_groups",
    "auth.User_user_permissions",
    "core.ExchangeRate",  # the dated rates admins keep
    "core.NotificationPreference",
    "core.UserProfile",  # language, phone and job title
    "customers.Tag",
    "customers.Customer",
    "customers.Customer_tags",
    "customers.Contact",
    "customers.Consent",
    "customers.Interaction",
    "customers.Interaction_attendees",  # a meeting's colleagues
    "customers.Interaction_attendee_contacts",
    "customers.Task",
    "customers.SavedView",
    "customers.CustomerMerge",  # the record of each merge, on the timeline
    "customers.DuplicateDismissal",  # pairs a manager said are not duplicates
    "customers.HistoricalCustomer",
    "customers.HistoricalCustomer_tags",
    "customers.HistoricalConsent",  # the consent history
    "sales.Product",
    "sales.Pipeline",
    "sales.Stage",
    "sales.Deal",
    "sales.DealStageChange",
    "sales.Quote",
    "sales.QuoteLine",
    "sales.Order",
    "sales.OrderLine",
    "sales.Quota",
    "sales.CompanyDetails",  # the seller on printed quotes (its logo is in the media storage)
    "service.Team",
    "service.Team_members",
    "service.SLAPolicy",
    "service.Holiday",
    "service.Ticket",
    "service.Ticket_tags",
    "service.TicketMessage",
    "service.Escalation",
    "service.ArticleCategory",
    "service.CategoryTranslation",
    "service.KnowledgeArticle",
    "service.ArticleTranslation",
    "service.SuggestionOpen",
    "service.SatisfactionResponse",
    "service.Macro",
    "service.Macro_add_tags",
    "marketing.Campaign",
    "marketing.CampaignRecipient",
    "marketing.SubjectTest",
    "marketing.LoyaltyRule",
    "marketing.LoyaltyTier",
    "marketing.LoyaltyAccount",
    "marketing.LoyaltyEntry",
    "integrations.EmailTemplate",  # users' saved emails for the compose page
]

# Not exported: computed again from the exported tables, or of no use after a restore.
# import_all --replace empties them, since they point to rows it replaces.
DERIVED = {
    "customers.DuplicateCandidate": "likely duplicate pairs, found again by the next refresh",
    "customers.DuplicateRefresh": "when the duplicates were last looked for",
    "admin.LogEntry": "Django admin's log of its own edits (the change history is exported)",
    "core.OutboxMessage": "emails waiting for delivery: a restore must not send them again",
    "core.AuditEvent": "kept where it was written: a restore must not rewrite who did what",
    "core.IdempotencyKey": "used form tokens, kept a day: a restored form may be sent again",
    "core.PeriodicTaskRun": "the last run of each beat task, written again by the next run",
    "marketing.LeadSubmission": "a lead form submission awaiting its emailed confirmation"
    " for a few days: unconfirmed typing is not kept, a confirmed one is the customer's record",
    "core.ApiToken": "hashes of API tokens: a restore must not bring back revoked or"
    " leaked credentials; their owners make new ones",
    "core.DomainEvent": "events already told to webhook receivers: a restore must not send"
    " them again",
    "integrations.WebhookEndpoint": "webhook endpoints carry signing secrets, which never leave"
    " the database in a file: they are registered again after a restore",
    "integrations.WebhookDelivery": "the delivery log of webhook events (see core.DomainEvent)",
    "core.Attachment": "the files live in the media storage (MEDIA_ROOT or an S3 bucket),"
    " backed up with it: a CSV export carries no file",
    "integrations.Mailbox": "mailbox settings name a password variable of the machine: an"
    " admin sets them up again after a restore",
    "integrations.InboundEmail": "messages read from mailboxes, kept on the mail server; what"
    " they became (tickets, interactions) is exported",
    "core.ExportFile": "a one-time download of a large export: its file is not restored",
    "core.Notification": "notices of what happened, shown under the bell: what they tell of"
    " is exported",
    "customers.CalendarFeed": "the secret calendar link's version: a restore must not bring back"
    " a link its owner reset",
    "service.ReplyDraft": "unsent replies being typed, saved per agent and ticket",
    "axes.AccessAttempt": "failed sign-ins counted for the lock-out: they expire by themselves",
    "axes.AccessAttemptExpiration": "when each counted failure expires",
    "axes.AccessLog": "sign-ins seen by django-axes (the audit log keeps who signed in)",
    "axes.AccessFailureLog": "failed sign-ins seen by django-axes",
    "otp_totp.TOTPDevice": "authenticator secrets never leave the database: users enrol again",
    "customers.CustomerImport": "an uploaded file waiting for its preview to be confirmed",
    "sales.OrderImport": "an uploaded file waiting for its preview to be confirmed",
    "sales.CustomerLastOrder": "kept by database triggers on sales_order",
    "sales.OpenDealTotal": "kept by database triggers on sales_deal",
    "sales.CustomerOrderStats": "kept by database triggers on sales_order",
    "analytics.SegmentRun": "recomputed by a segment run (manage.py compute_segments)",
    "analytics.CustomerValue": "recomputed by a segment run",
    "analytics.CustomerStats": "recomputed by a segment run",
    "analytics.SegmentSummary": "recomputed by a segment run",
    "analytics.SegmentMigration": "recomputed by a segment run",
    "analytics.ProductAffinity": "recomputed by a segment run",
    "analytics.Recommendation": "recomputed by a segment run",
}

# Kept by Django itself (filled by migrate), never exported nor emptied.
FRAMEWORK = {"contenttypes.ContentType", "auth.Permission", "sessions.Session"}

# Columns left out of the export: a password hash must not leave the database in a CSV file
# (restored users set a new password through "Forgot password" or an admin).
OMITTED_COLUMNS = {"auth.User": {"password"}}


def model_of(label: str) -> type[models.Model]:
    """ "app.Model", where Model may be an automatic many-to-many table ("Customer_tags")."""
    app_label, name = label.split(".")
    for model in apps.get_app_config(app_label).get_models(include_auto_created=True):
        if model.__name__ == name:
            return model
    raise LookupError(f"No model {label}")


def label_of(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.{model.__name__}"


def exported_models() -> list[type[models.Model]]:
    return [model_of(label) for label in EXPORTED]


def derived_models() -> list[type[models.Model]]:
    installed = {label_of(model) for model in apps.get_models(include_auto_created=True)}
    return [model_of(label) for label in DERIVED if label in installed]


def columns_of(model: type[models.Model]) -> list[models.Field]:
    """The stored columns, in table order, without generated ones and omitted ones."""
    omitted = OMITTED_COLUMNS.get(label_of(model), set())
    return [
        field
        for field in model._meta.concrete_fields
        if not isinstance(field, models.GeneratedField) and field.name not in omitted
    ]


def file_name_of(model: type[models.Model]) -> str:
    return f"{model._meta.db_table}.csv"
