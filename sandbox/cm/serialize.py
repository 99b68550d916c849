"""JSON shapes of CM's answers, keys in the order the sample responses use."""

from __future__ import annotations

import zlib
from typing import Any

from .dates import format_minute
from .model import LOCATIONS, Campaign, Member
from .state import custom_fields_json


def member_json(
    member: Member, *, tracking: bool = False, sms: bool = False, details: bool = False
) -> dict[str, Any]:
    """A subscriber record.

    ``MobileNumber`` appears when the address has one and either ``details`` (the
    single-subscriber GET) or ``sms`` (``includesmspreference=true``) is set;
    ``ConsentToSendSms`` only with ``sms``; ``ConsentToTrack`` only with ``tracking``
    (``includetrackingpreference=true``), as in CM's sample responses.
    """
    data: dict[str, Any] = {"EmailAddress": member.email, "Name": member.name}
    if member.mobile and (sms or details):
        data["MobileNumber"] = member.mobile
    data["Date"] = format_minute(member.state_minute)
    data["ListJoinedDate"] = format_minute(member.joined_minute)
    data["State"] = member.state
    data["CustomFields"] = custom_fields_json(member)
    data["ReadsEmailWith"] = member.reads_email_with
    if tracking:
        data["ConsentToTrack"] = member.consent_to_track
    if sms:
        data["ConsentToSendSms"] = member.consent_to_send_sms
    return data


def web_version_urls(base_url: str, campaign: Campaign) -> tuple[str, str]:
    page = f"{base_url}/t/r-{campaign.web_code}"
    return page, page + "/t"


def sent_campaign_json(base_url: str, campaign: Campaign) -> dict[str, Any]:
    page, text = web_version_urls(base_url, campaign)
    return {
        "WebVersionURL": page,
        "WebVersionTextURL": text,
        "CampaignID": campaign.campaign_id,
        "Subject": campaign.subject,
        "Name": campaign.name,
        "FromName": campaign.from_name,
        "FromEmail": campaign.from_email,
        "ReplyTo": campaign.reply_to,
        "SentDate": format_minute(campaign.sent_minute or 0),
        "TotalRecipients": len(campaign.recipients),
        "Tags": list(campaign.tags),
    }


def draft_campaign_json(base_url: str, campaign: Campaign) -> dict[str, Any]:
    """A draft, or (with ``DateScheduled`` first, as CM orders it) a scheduled campaign."""
    page, text = web_version_urls(base_url, campaign)
    data: dict[str, Any] = {}
    if campaign.scheduled_minute is not None:
        data["DateScheduled"] = format_minute(campaign.scheduled_minute)
        data["ScheduledTimeZone"] = "(GMT) Coordinated Universal Time"
    data.update(
        {
            "CampaignID": campaign.campaign_id,
            "Name": campaign.name,
            "Subject": campaign.subject,
            "FromName": campaign.from_name,
            "FromEmail": campaign.from_email,
            "ReplyTo": campaign.reply_to,
            "DateCreated": format_minute(campaign.created_minute),
            "PreviewURL": page,
            "PreviewTextURL": text,
            "Tags": list(campaign.tags),
        }
    )
    return data


def summary_json(base_url: str, campaign: Campaign) -> dict[str, Any]:
    """Campaign summary; every count comes from the stored events."""
    events = campaign.events
    page, text = web_version_urls(base_url, campaign)
    return {
        "Name": campaign.name,
        "Recipients": len(campaign.recipients),
        "TotalOpened": len(events["open"]),
        "Clicks": len(events["click"]),
        "Unsubscribed": len(events["unsubscribe"]),
        "Bounced": len(events["bounce"]),
        "UniqueOpened": len(set(events["open"].recipient)),
        "Mentions": campaign.mentions,
        "Forwards": campaign.forwards,
        "Likes": campaign.likes,
        "WebVersionURL": page,
        "WebVersionTextURL": text,
        "WorldviewURL": f"{base_url}/reports/wv/r/{campaign.web_code}",
        "SpamComplaints": len(events["spam"]),
    }


def ip_and_location(email: str) -> tuple[str, tuple[float, float, str, str, str, str]]:
    """A stable pseudo IP address (documentation ranges) and location for an address."""
    digest = zlib.crc32(email.lower().encode("utf-8"))
    prefix = ("203.0.113", "198.51.100", "192.0.2")[digest % 3]
    return f"{prefix}.{(digest >> 8) % 254 + 1}", LOCATIONS[(digest >> 16) % len(LOCATIONS)]


def geo_fields(email: str) -> dict[str, Any]:
    """The IP and location columns of open and click rows (stable per address)."""
    ip_address, (lat, lon, city, region, code, country) = ip_and_location(email)
    return {
        "IPAddress": ip_address,
        "Latitude": lat,
        "Longitude": lon,
        "City": city,
        "Region": region,
        "CountryCode": code,
        "CountryName": country,
    }
