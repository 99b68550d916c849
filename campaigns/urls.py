"""Salesforce Campaigns: the settings screen, the backfill, the campaigns list and pages."""

from django.urls import path

from campaigns.views import backfill, benchmarks, campaigns, filters, links, settings, statuses

urlpatterns = [
    # Settings and backfill
    path("", settings.campaign_settings, name="campaigns-settings"),
    path("backfill/", backfill.start_backfill, name="campaigns-backfill"),
    # Campaign member statuses
    path("statuses/", statuses.member_statuses, name="campaigns-statuses"),
    # Campaign filter
    path("filter/", filters.save_filter, name="campaigns-filter"),
    # Industry benchmarks
    path("benchmarks/", benchmarks.save_benchmarks, name="campaigns-benchmarks"),
    # Campaigns list and pages
    path("list/", campaigns.campaign_list, name="campaigns-list"),
    path("c/<str:cm_campaign_id>/", campaigns.campaign_page_view, name="campaigns-detail"),
    path("c/<str:cm_campaign_id>/link/", links.link, name="campaigns-link"),
    path("c/<str:cm_campaign_id>/unlink/", links.unlink, name="campaigns-unlink"),
]
