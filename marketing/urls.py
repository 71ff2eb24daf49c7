from django.urls import path

from marketing.views import campaigns, loyalty, reports, sending, subject_tests

app_name = "marketing"

urlpatterns: list = [
    path("campaigns/", campaigns.campaign_list, name="campaign-list"),
    path("campaigns/new/", campaigns.campaign_create_view, name="campaign-create"),
    path("campaigns/audience/", campaigns.audience_preview, name="audience-preview"),
    path("campaigns/<int:pk>/", campaigns.campaign_detail, name="campaign-detail"),
    path("campaigns/<int:pk>/edit/", campaigns.campaign_update_view, name="campaign-update"),
    path("campaigns/<int:pk>/audience/", campaigns.campaign_audience, name="campaign-audience"),
    path("campaigns/<int:pk>/report/", reports.campaign_report, name="campaign-report"),
    path(
        "campaigns/<int:pk>/subject-test/",
        subject_tests.campaign_subject_test,
        name="campaign-subject-test",
    ),
    path(
        "campaigns/channel-segment/",
        reports.channel_segment_matrix_view,
        name="channel-segment-matrix",
    ),
    # Sending (marketing.views.sending)
    path("campaigns/<int:pk>/preview/", sending.campaign_preview, name="campaign-preview"),
    path("campaigns/<int:pk>/test-send/", sending.campaign_test_send, name="campaign-test-send"),
    path("campaigns/<int:pk>/send/", sending.campaign_send_view, name="campaign-send"),
    path(
        "campaigns/<int:pk>/send/progress/",
        sending.campaign_send_progress,
        name="campaign-send-progress",
    ),
    path("campaigns/<int:pk>/recipients/", sending.campaign_recipients, name="campaign-recipients"),
    path(
        "campaigns/<int:pk>/recipients/outcome/",
        sending.recipient_outcome_bulk,
        name="recipient-outcome-bulk",
    ),
    path("recipients/<int:pk>/outcome/", sending.recipient_outcome, name="recipient-outcome"),
    path("campaigns/<int:pk>/mail.csv", sending.campaign_mail_export, name="campaign-mail-export"),
    path(
        "customers/<int:pk>/loyalty/", loyalty.customer_loyalty_panel, name="customer-loyalty-panel"
    ),
    path("customers/<int:pk>/loyalty/change/", loyalty.loyalty_change_view, name="loyalty-change"),
]
