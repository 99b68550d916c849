"""Linking and unlinking a campaign by hand (Admins)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from campaigns.forms.links import LinkForm
from campaigns.services.campaigns import campaign_detail, link_of
from campaigns.services.links import LinkError, link_campaign, unlink_campaign
from campaigns.views.campaigns import render_campaign
from cmsync.roles import Access, can_change, role_required
from sync.services.status import get_connection


@role_required(Access.CHANGE)
@require_POST
def link(request: HttpRequest, cm_campaign_id: str) -> HttpResponse:
    connection = get_connection()
    if connection is None:
        raise Http404("Not connected.")
    form = LinkForm(request.POST)
    if form.is_valid():
        try:
            made = link_campaign(
                connection, cm_campaign_id, form.cleaned_data["sf_campaign_id"], request.user
            )
        except LinkError as exc:
            form.add_error("sf_campaign_id", str(exc))
        else:
            messages.success(
                request,
                f"Linked to the Salesforce Campaign {made.sf_campaign_name}. The next sync adds "
                "its recipients who are Contacts or Leads as CampaignMembers.",
            )
            return redirect("campaigns-detail", cm_campaign_id=cm_campaign_id)
    return render_campaign(request, cm_campaign_id, link_form=form, status=400)


@role_required(Access.READ)
@require_http_methods(["GET", "POST"])
def unlink(request: HttpRequest, cm_campaign_id: str) -> HttpResponse:
    """GET asks for confirmation; POST (Admins) unlinks."""
    connection = get_connection()
    campaign = campaign_detail(connection, cm_campaign_id) if connection else None
    if campaign is None:
        raise Http404("No synced campaign with that id.")
    if request.method == "GET":
        return render(
            request,
            "campaigns/unlink_confirm.html",
            {
                "page_title": f"Unlink {campaign.name}",
                "campaign": campaign,
                "link": link_of(campaign),
                "can_change": can_change(request.user),
            },
        )
    try:
        kept = unlink_campaign(connection, cm_campaign_id, request.user)
    except LinkError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Unlinked. The {kept} CampaignMember(s) cmsync created stay on the Salesforce "
            "Campaign; nothing in Salesforce was deleted.",
        )
    return redirect("campaigns-detail", cm_campaign_id=cm_campaign_id)
