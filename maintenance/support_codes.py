"""Support codes: a stable identifier per kind of problem, with guidance for whoever fixes it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SupportCode:
    code: str
    title: str
    guidance: str


_CODES = [
    SupportCode(
        "CMS-100",
        "Campaign Monitor rejected the credentials",
        "The API key or OAuth grant no longer works (revoked, rotated or expired). An Admin opens "
        "Sync Settings and chooses Reconnect to Campaign Monitor with new full-access credentials "
        "for the same account. Synced data stays in Salesforce; the next run resumes where it "
        "stopped.",
    ),
    SupportCode(
        "CMS-110",
        "Campaign Monitor is unavailable or throttling",
        "Campaign Monitor answered with server errors, throttling or timeouts even after retries. "
        "Nothing is lost: cursors did not advance, so the next run picks up the same data. If it "
        "persists for hours, check status.campaignmonitor.com.",
    ),
    SupportCode(
        "CMS-200",
        "Salesforce rejected the credentials",
        "The Salesforce session could not be refreshed (the sync user was deactivated, the "
        "connected app was revoked, or the password changed). Reconnect Salesforce from Sync "
        "Settings, or use Change Salesforce Sync User.",
    ),
    SupportCode(
        "CMS-210",
        "Salesforce daily API limit reached",
        "The org spent its 24-hour API allowance (REQUEST_LIMIT_EXCEEDED). cmsync stopped the run "
        "instead of spending more calls. The next run after the allowance recovers resumes from "
        "the "
        "same cursors. Consider a lower import frequency or ask Salesforce for a higher limit.",
    ),
    SupportCode(
        "CMS-220",
        "Salesforce rejected some records",
        "Salesforce refused individual records (validation rule, field length, invalid e-mail, "
        "duplicate value). The rest of each batch landed. The run's detail page lists each refused "
        "record with Salesforce's error code; fix the data or the validation rule and run a sync.",
    ),
    SupportCode(
        "CMS-230",
        "Salesforce is unavailable",
        "Salesforce answered with server errors or timeouts even after retries. Nothing is lost: "
        "cursors did not advance, and the next run retries.",
    ),
    SupportCode(
        "CMS-240",
        "Salesforce schema could not be prepared",
        "cmsync could not create its custom objects or fields. The sync user needs the 'Customize "
        "Application' and 'Modify All Data' permissions (or an admin profile). Grant them and "
        "reconnect Salesforce.",
    ),
    SupportCode(
        "CMS-300",
        "A sync run was interrupted",
        "The worker running a sync stopped (restart, crash or time limit) without finishing. The "
        "lock expired and the next run resumed from the last written data; nothing is duplicated.",
    ),
    SupportCode(
        "CMS-310",
        "Several Salesforce records share an e-mail address",
        "cmsync linked the subscriber to the most recently modified Contact or Lead. The details "
        "list the candidates; merge duplicates in Salesforce to make the link unambiguous.",
    ),
    SupportCode(
        "CMS-320",
        "Work cancelled: Campaign Monitor was disconnected",
        "An Admin disconnected Campaign Monitor (Sync Settings → Disconnect from Campaign "
        "Monitor) while a sync run or an import was queued or running, or a job started after "
        "the credentials were removed. cmsync cancelled that work instead of failing it: what "
        "was written before stays in Salesforce and Campaign Monitor, and sync cursors stayed "
        "where the last written data left them, so nothing is lost or duplicated. Standing "
        "field mappings were paused. Connect Campaign Monitor again, then use Sync now, Run "
        "again on the import's page, and resume each paused mapping.",
    ),
    SupportCode(
        "CMS-400",
        "An import to Campaign Monitor stopped",
        "The import wizard's job could not go on: its list view, report, list or a mapped field "
        "is gone, or a service refused a request. Addresses sent before it stopped stay in "
        "Campaign Monitor. Fix the cause named in the message, then use Run again on the "
        "import's page: imports are upserts by e-mail, so nobody is added twice.",
    ),
    SupportCode(
        "CMS-410",
        "Campaign Monitor refused some addresses of an import",
        "The rest of the import landed. The import's page lists each refused address with the "
        "reason (invalid address, suppressed, ...). Correct the address on the Contact or Lead "
        "and run the import again.",
    ),
    SupportCode(
        "CMS-500",
        "A linked Salesforce Campaign no longer exists",
        "A Campaign Monitor campaign is linked to a Salesforce Campaign that Salesforce no longer "
        "resolves (it was deleted). The sync goes on without it: the CM campaign record in "
        "Salesforce is written without the link, and no members or statistics are written. An "
        "Admin opens the campaign on the Salesforce Campaigns screen and links it to another "
        "Campaign (or restores the Campaign from Salesforce's recycle bin), or unlinks it.",
    ),
    SupportCode(
        "CMS-510",
        "Salesforce refused Campaign or CampaignMember writes",
        "cmsync could not create a Salesforce Campaign, add recipients as CampaignMembers or "
        "write statistics onto a linked Campaign. The message names Salesforce's reason (a "
        "validation rule, a required field, missing permissions on Campaign). The rest of the "
        "sync landed; the next run tries again. Fix the cause in Salesforce.",
    ),
    SupportCode(
        "CMS-520",
        "A linked Salesforce Campaign lacks a mapped member status",
        "The member status map (Salesforce Campaigns, Campaign member statuses) uses a label the "
        "linked Campaign does not have, and Auto-create member statuses is off. Salesforce only "
        "accepts a CampaignMember Status that is one of its Campaign's member statuses, so the "
        "members whose activity needs that label keep their status. Add the status to the "
        "Campaign in Salesforce, turn on Auto-create member statuses, or change the map; members "
        "move at the campaign's next new activity or the next change of these settings.",
    ),
    SupportCode(
        "CMS-900",
        "Unexpected error",
        "Something failed that cmsync does not recognise. The details carry the error type; report "
        "it with the support code and the time.",
    ),
]

SUPPORT_CODES: dict[str, SupportCode] = {item.code: item for item in _CODES}


def get_support_code(code: str) -> SupportCode | None:
    return SUPPORT_CODES.get(code)
