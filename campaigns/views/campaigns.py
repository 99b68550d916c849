"""The campaigns list and a campaign's page (read by everyone signed in)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from campaigns.forms.campaigns import CampaignListSearchForm
from campaigns.forms.links import CampaignSearchForm, LinkForm
from campaigns.services.benchmarks import campaign_benchmark
from campaigns.services.campaigns import campaign_detail, campaign_page, link_of
from campaigns.services.links import LinkError, search_salesforce_campaigns
from cmsync.roles import Access, can_change, role_required
from sync.services.status import get_connection


@role_required(Access.READ)
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    connection = get_connection()
    form = CampaignListSearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    page = campaign_page(connection, query, request.GET.get("page")) if connection else None
    return render(
        request,
        "campaigns/list.html",
        {
            "page_title": "Salesforce Campaigns: campaigns",
            "form": form,
            "query": query,
            "page": page,
        },
    )


@role_required(Access.READ)
@require_GET
def campaign_page_view(request: HttpRequest, cm_campaign_id: str) -> HttpResponse:
    return render_campaign(request, cm_campaign_id)


def render_campaign(
    request: HttpRequest, cm_campaign_id: str, link_form: LinkForm | None = None, status: int = 200
) -> HttpResponse:
    """The campaign page; the link view re-renders it with its form errors."""
    connection = get_connection()
    campaign = campaign_detail(connection, cm_campaign_id) if connection else None
    if campaign is None:
        raise Http404("No synced campaign with that id.")
    search_form = CampaignSearchForm(request.GET if "name" in request.GET else None)
    results, search_error = [], ""
    if search_form.is_bound and search_form.is_valid():
        try:
            results = search_salesforce_campaigns(connection, search_form.cleaned_data["name"])
        except LinkError as exc:
            search_error = str(exc)
    context = {
        "page_title": campaign.name,
        "campaign": campaign,
        "link": link_of(campaign),
        "benchmark": campaign_benchmark(campaign),
        "can_change": can_change(request.user),
        "search_form": search_form,
        "results": results,
        "searched": search_form.is_bound,
        "search_error": search_error,
        "link_form": link_form or LinkForm(),
    }
    return render(request, "campaigns/detail.html", context, status=status)
