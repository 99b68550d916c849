"""URLs of the sync app, one block per screen (each block's views live in ``sync/views/<name>``)."""

from django.urls import path

from sync.views import connect, imports, options, settings, status, storage, tracking_panel

# Dashboard and run history
urlpatterns = [
    path("", status.dashboard, name="dashboard"),
    path("sync/runs/", status.run_list, name="sync-runs"),
    path("sync/runs/<int:run_id>/", status.run_detail, name="sync-run-detail"),
    path("sync/runs/<int:run_id>/progress/", status.run_progress, name="sync-run-progress"),
]

# Sync Settings
urlpatterns += [
    path("sync/settings/", settings.sync_settings, name="sync-settings"),
    path("sync/settings/frequency/", settings.save_frequency, name="sync-settings-frequency"),
    path("sync/settings/turn-off/", settings.turn_off, name="sync-settings-turn-off"),
    path("sync/settings/turn-on/", settings.turn_on, name="sync-settings-turn-on"),
    path("sync/settings/sync-now/", settings.sync_now, name="sync-settings-sync-now"),
    path("sync/settings/full-sync/", settings.full_sync, name="sync-settings-full-sync"),
    path(
        "sync/settings/clients/select/",
        settings.save_selected_clients,
        name="sync-settings-select-clients",
    ),
    path(
        "sync/settings/clients/<int:client_id>/owner/",
        settings.save_security_owner,
        name="sync-settings-security-owner",
    ),
]

# Connect, reconnect and disconnect Campaign Monitor; connect Salesforce and change its sync user
urlpatterns += [
    path(
        "sync/settings/change-sync-user/",
        connect.change_sf_sync_user,
        name="sync-settings-change-sync-user",
    ),
    path("sync/settings/reconnect/", connect.reconnect_cm, name="sync-settings-reconnect"),
    path("sync/settings/disconnect/", connect.disconnect, name="sync-settings-disconnect"),
    path("sync/connect/campaign-monitor/", connect.connect_cm, name="sync-connect-cm"),
    path(
        "sync/connect/campaign-monitor/oauth/",
        connect.connect_cm_oauth,
        name="sync-connect-cm-oauth",
    ),
    path(
        "sync/connect/campaign-monitor/callback/",
        connect.connect_cm_callback,
        name="sync-connect-cm-callback",
    ),
    path(
        "sync/connect/campaign-monitor/clients/",
        connect.connect_cm_clients,
        name="sync-connect-cm-clients",
    ),
    path("sync/connect/salesforce/", connect.connect_sf, name="sync-connect-sf"),
    path(
        "sync/connect/salesforce/callback/",
        connect.connect_sf_callback,
        name="sync-connect-sf-callback",
    ),
]

# General Options and the consent log
urlpatterns += [
    path("sync/options/", options.sync_options, name="sync-options"),
    path("sync/consent/", options.consent_log, name="sync-consent-log"),
]

# The live tracking panel (page and embeddable frame)
urlpatterns += [
    path("sync/tracking/", tracking_panel.tracking_panel_page, name="sync-tracking-panel"),
    path("sync/tracking/embed/", tracking_panel.tracking_panel_embed, name="sync-tracking-embed"),
    path(
        "sync/tracking/embed-sign-in/",
        tracking_panel.tracking_embed_signin,
        name="sync-tracking-embed-signin",
    ),
]

# Storage: storage used in Salesforce, tracking history, campaign-member aggregates
urlpatterns += [
    path("sync/storage/", storage.storage_screen, name="sync-storage"),
    path(
        "sync/storage/tracking-history/",
        storage.save_tracking_history,
        name="sync-storage-tracking",
    ),
    path(
        "sync/storage/aggregates/",
        storage.save_campaign_member_aggregates,
        name="sync-storage-aggregates",
    ),
]

# Import wizard and standing field mappings: Salesforce list view or report → CM list
urlpatterns += [
    path("sync/import/", imports.import_start, name="sync-import"),
    path("sync/import/new/", imports.import_map, name="sync-import-map"),
    path("sync/import/<int:job_id>/", imports.import_detail, name="sync-import-detail"),
    path(
        "sync/import/<int:job_id>/progress/", imports.import_progress, name="sync-import-progress"
    ),
    path(
        "sync/import/<int:job_id>/run-again/",
        imports.import_run_again,
        name="sync-import-run-again",
    ),
    path(
        "sync/import/mappings/<int:mapping_id>/<slug:action>/",
        imports.standing_mapping_action,
        name="sync-standing-mapping",
    ),
]
