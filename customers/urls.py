from django.urls import path

from customers.views import (
    activity,
    bulk,
    customers,
    duplicates,
    import_columns,
    privacy,
    search,
    transfer,
)

app_name = "customers"

urlpatterns = [
    path("", customers.customer_list, name="customer-list"),
    path("columns/", customers.list_columns_view, name="list-columns"),
    path("new/", customers.customer_create_view, name="customer-create"),
    path("export/", transfer.customer_export, name="customer-export"),
    path("import/", transfer.customer_import_upload, name="customer-import"),
    path("import/template.csv", transfer.customer_import_template, name="customer-import-template"),
    path("import/columns/", import_columns.customer_import_columns, name="customer-import-columns"),
    path(
        "import/<int:pk>/rejected.csv",
        import_columns.customer_import_rejected,
        name="customer-import-rejected",
    ),
    path("import/<int:pk>/", transfer.customer_import_preview, name="customer-import-preview"),
    path(
        "import/<int:pk>/progress/",
        transfer.customer_import_progress,
        name="customer-import-progress",
    ),
    path("bulk/", bulk.bulk_action_view, name="customer-bulk"),
    path("views/", bulk.saved_view_create, name="saved-view-create"),
    path("views/<int:pk>/delete/", bulk.saved_view_delete, name="saved-view-delete"),
    path("duplicates/", duplicates.duplicate_list, name="duplicate-list"),
    path("duplicates/dismiss/", duplicates.duplicate_dismiss_view, name="duplicate-dismiss"),
    path("search/", search.global_search, name="search"),
    path("tasks/", activity.my_tasks, name="my-tasks"),
    path("tasks/<int:pk>/toggle/", activity.task_toggle_view, name="task-toggle"),
    path("tasks/badge/", activity.task_badge, name="task-badge"),
    path("tasks/panel/", activity.home_tasks_panel, name="home-tasks-panel"),
    path("panel/", customers.home_customers_panel, name="home-customers-panel"),
    path("<int:pk>/", customers.customer_detail, name="customer-detail"),
    path("<int:pk>/panels/", customers.customer_deferred_panels, name="customer-panels"),
    path("<int:pk>/edit/", customers.customer_update_view, name="customer-update"),
    path("<int:pk>/delete/", customers.customer_delete_view, name="customer-delete"),
    path("<int:pk>/merge/", duplicates.customer_merge_view, name="customer-merge"),
    path("<int:pk>/erase/", privacy.customer_erase_view, name="customer-erase"),
    path("<int:pk>/data/", privacy.customer_data_view, name="customer-data"),
    path("<int:pk>/interactions/", activity.interaction_create_view, name="interaction-create"),
    path("<int:pk>/tasks/", activity.task_create_view, name="task-create"),
    path("<int:pk>/contacts/new/", activity.contact_create_view, name="contact-create"),
    path(
        "<int:pk>/contacts/<int:contact_pk>/edit/",
        activity.contact_update_view,
        name="contact-update",
    ),
    path(
        "<int:pk>/contacts/<int:contact_pk>/delete/",
        activity.contact_delete_view,
        name="contact-delete",
    ),
]
