from django.urls import path

from . import views, views_settings

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("sync/runs/", views.run_list, name="sync-runs"),
    path("sync/runs/<int:run_id>/", views.run_detail, name="sync-run-detail"),
    path("sync/runs/<int:run_id>/progress/", views.run_progress, name="sync-run-progress"),
    # Sync Settings and the Connect flows (sync/views_settings.py)
    path("sync/settings/", views_settings.sync_settings, name="sync-settings"),
    path(
        "sync/settings/frequency/",
        views_settings.save_frequency,
        name="sync-settings-frequency",
    ),
    path("sync/settings/turn-off/", views_settings.turn_off, name="sync-settings-turn-off"),
    path("sync/settings/turn-on/", views_settings.turn_on, name="sync-settings-turn-on"),
    path("sync/settings/sync-now/", views_settings.sync_now, name="sync-settings-sync-now"),
    path("sync/settings/full-sync/", views_settings.full_sync, name="sync-settings-full-sync"),
    path(
        "sync/settings/change-sync-user/",
        views_settings.change_sf_sync_user,
        name="sync-settings-change-sync-user",
    ),
    path("sync/settings/reconnect/", views_settings.reconnect_cm, name="sync-settings-reconnect"),
    path("sync/settings/disconnect/", views_settings.disconnect, name="sync-settings-disconnect"),
    path(
        "sync/settings/clients/select/",
        views_settings.save_selected_clients,
        name="sync-settings-select-clients",
    ),
    path(
        "sync/settings/clients/<int:client_id>/owner/",
        views_settings.save_security_owner,
        name="sync-settings-security-owner",
    ),
    path("sync/connect/campaign-monitor/", views_settings.connect_cm, name="sync-connect-cm"),
    path(
        "sync/connect/campaign-monitor/oauth/",
        views_settings.connect_cm_oauth,
        name="sync-connect-cm-oauth",
    ),
    path(
        "sync/connect/campaign-monitor/callback/",
        views_settings.connect_cm_callback,
        name="sync-connect-cm-callback",
    ),
    path(
        "sync/connect/campaign-monitor/clients/",
        views_settings.connect_cm_clients,
        name="sync-connect-cm-clients",
    ),
    path("sync/connect/salesforce/", views_settings.connect_sf, name="sync-connect-sf"),
    path(
        "sync/connect/salesforce/callback/",
        views_settings.connect_sf_callback,
        name="sync-connect-sf-callback",
    ),
]

# General Options, the consent log and the live tracking panel (appended; imports kept here so
# each screen's patterns stay in one block).
from . import views_options, views_tracking  # noqa: E402

urlpatterns += [
    path("sync/options/", views_options.sync_options, name="sync-options"),
    path("sync/consent/", views_options.consent_log, name="sync-consent-log"),
    path("sync/tracking/", views_tracking.tracking_panel_page, name="sync-tracking-panel"),
    path("sync/tracking/embed/", views_tracking.tracking_panel_embed, name="sync-tracking-embed"),
]

# Storage: storage used in Salesforce, tracking history and campaign-member aggregates (appended).
from . import views_storage  # noqa: E402

urlpatterns += [
    path("sync/storage/", views_storage.storage_screen, name="sync-storage"),
    path(
        "sync/storage/tracking-history/",
        views_storage.save_tracking_history,
        name="sync-storage-tracking",
    ),
    path(
        "sync/storage/aggregates/",
        views_storage.save_campaign_member_aggregates,
        name="sync-storage-aggregates",
    ),
]

# Import wizard: Salesforce list view or report → Campaign Monitor list (appended).
from . import views_import  # noqa: E402

urlpatterns += [
    path("sync/import/", views_import.import_start, name="sync-import"),
    path("sync/import/new/", views_import.import_map, name="sync-import-map"),
    path("sync/import/<int:job_id>/", views_import.import_detail, name="sync-import-detail"),
    path(
        "sync/import/<int:job_id>/progress/",
        views_import.import_progress,
        name="sync-import-progress",
    ),
    path(
        "sync/import/<int:job_id>/run-again/",
        views_import.import_run_again,
        name="sync-import-run-again",
    ),
    path(
        "sync/import/mappings/<int:mapping_id>/<slug:action>/",
        views_import.standing_mapping_action,
        name="sync-standing-mapping",
    ),
]
