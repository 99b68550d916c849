"""Salesforce's campaign rules in the sandbox org: Campaign, CampaignMember, CampaignMemberStatus.

The store calls these hooks on every write, so the rules hold however a record arrives: REST
sObject calls, sObject Collections, composite, Bulk API 2.0, the seed. Each hook runs inside the
store's transaction, so a rejected record (or an all-or-none rollback) leaves no side effects.

Campaign
- A new campaign gets two member statuses: "Sent" (the default) and "Responded" (HasResponded).
- The statistics are Salesforce's to keep, read-only through the API
  (INVALID_FIELD_FOR_INSERT_UPDATE, from the schema): NumberOfContacts, NumberOfLeads,
  NumberOfResponses and NumberOfConvertedLeads follow the campaign's members; the opportunity
  figures stay 0 (the org has no Opportunity object). NumberSent (0 on a new campaign), the
  costs and ExpectedRevenue are the user's to write. Hierarchy* fields add up the campaign and
  every campaign below it.
- ParentId cannot make a loop (FIELD_INTEGRITY_EXCEPTION).
- Deleting a campaign deletes its members and statuses (whatever the status rules below say)
  and clears ParentId on its child campaigns.

CampaignMemberStatus
- Label is unique per campaign, case-insensitively, and so is SortOrder (DUPLICATE_VALUE, from
  the store's composite keys); a status created without SortOrder goes last.
- Exactly one default per campaign: a status saved with IsDefault takes the flag from the
  previous default; the default cannot give it up by itself (FIELD_INTEGRITY_EXCEPTION). At
  least one status has HasResponded (API 39.0 and later); the last one cannot drop it.
- The default status, the last responded status and a status members hold cannot be deleted
  (DELETE_FAILED).
- A new label joins the CampaignMember.Status picklist (as Salesforce adds it in Setup);
  renaming a label renames it on the members, and changing HasResponded re-derives theirs.

CampaignMember
- One member per campaign and Contact, and per campaign and Lead (DUPLICATE_VALUE "Already a
  campaign member.", from the store's composite keys). ContactId or LeadId is required; given
  both, only ContactId is kept (as the object reference documents).
- Status defaults to the campaign's default status and must be one of the campaign's labels
  (INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST, also for clearing it); the stored value takes the
  label's spelling. HasResponded follows the status; FirstRespondedDate is set the first time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import SfError
from .schema import CAMPAIGN_COUNTS, CAMPAIGN_HIERARCHY, CAMPAIGN_HIERARCHY_FIELDS, ObjectDef

if TYPE_CHECKING:
    from .store import Store

CAMPAIGN = "Campaign"
MEMBER = "CampaignMember"
STATUS = "CampaignMemberStatus"

# A new campaign's member statuses: (Label, IsDefault, HasResponded).
DEFAULT_STATUSES = (("Sent", True, False), ("Responded", False, True))

# Person fields a member copies from its Contact or Lead when it is created.
PERSON_COPIES = (
    "Salutation",
    "FirstName",
    "LastName",
    "Name",
    "Title",
    "Email",
    "Phone",
    "MobilePhone",
    "HasOptedOutOfEmail",
    "DoNotCall",
)

# Salesforce keeps a campaign hierarchy to five levels; the walk up stops well past that, so a
# damaged persisted file cannot make it loop.
MAX_DEPTH = 32


class CampaignRules:
    """The campaign hooks of one store (see the module docstring for the rules)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # Hooks -------------------------------------------------------------------------------------
    def derive(
        self, definition: ObjectDef, record: dict[str, Any], previous: dict[str, Any] | None
    ) -> None:
        """Before the required and unique checks: defaults, derived fields, write rules."""
        if definition.name == CAMPAIGN:
            self._derive_campaign(record, previous)
        elif definition.name == MEMBER:
            self._derive_member(record, previous)
        elif definition.name == STATUS:
            self._derive_status(record, previous)

    def after_write(
        self, definition: ObjectDef, record: dict[str, Any], previous: dict[str, Any] | None
    ) -> None:
        if definition.name == CAMPAIGN:
            self._after_campaign_write(record, previous)
        elif definition.name == MEMBER:
            self._count_member(record, previous)
        elif definition.name == STATUS:
            self._after_status_write(record, previous)

    def before_delete(self, definition: ObjectDef, record: dict[str, Any], cascaded: bool) -> None:
        if definition.name == STATUS and not cascaded:
            self._check_status_deletable(record)

    def after_delete(self, definition: ObjectDef, record: dict[str, Any]) -> None:
        if definition.name == MEMBER:
            self._count_member(None, record)
        elif definition.name == CAMPAIGN:
            self._orphan_children(record)
            self.refresh_hierarchy(record.get("ParentId"))

    def loaded(self, sobject: str, record: dict[str, Any]) -> None:
        """A record restored from the SQLite file (no rules run, the picklist still learns)."""
        if sobject == STATUS and not record.get("IsDeleted"):
            self._learn_label(record.get("Label"))

    def lead_converted(self, lead_id: str) -> None:
        """The Lead is converted now: its memberships count as converted leads."""
        for member in self._rows(MEMBER, "LeadId", lead_id):
            if not member.get("ContactId"):
                self._add_to_campaign(member["CampaignId"], {"NumberOfConvertedLeads": 1})

    # Campaign ----------------------------------------------------------------------------------
    def _derive_campaign(self, record: dict[str, Any], previous: dict[str, Any] | None) -> None:
        if previous is None:
            for name in CAMPAIGN_COUNTS:
                record[name] = 0
            record["AmountAllOpportunities"] = record["AmountWonOpportunities"] = 0.0
            if record.get("NumberSent") is None:
                record["NumberSent"] = 0.0
        parent_id = record.get("ParentId")
        moved = parent_id and (previous is None or parent_id != previous.get("ParentId"))
        if moved and record["Id"] in {parent_id, *self._ancestors(parent_id)}:
            raise SfError(
                "FIELD_INTEGRITY_EXCEPTION",
                "Parent Campaign ID: a campaign can't be its own parent or the parent of a "
                "campaign above it",
                ["ParentId"],
            )

    def _ancestors(self, campaign_id: str) -> list[str]:
        found: list[str] = []
        current = self.store.get(CAMPAIGN, campaign_id)
        while current is not None and current.get("ParentId") and len(found) < MAX_DEPTH:
            found.append(current["ParentId"])
            current = self.store.get(CAMPAIGN, current["ParentId"])
        return found

    def _after_campaign_write(
        self, record: dict[str, Any], previous: dict[str, Any] | None
    ) -> None:
        if previous is None:
            statuses = self.store.schema.objects[STATUS]
            for order, (label, default, responded) in enumerate(DEFAULT_STATUSES, start=1):
                self.store.create(
                    statuses,
                    {
                        "CampaignId": record["Id"],
                        "Label": label,
                        "IsDefault": default,
                        "HasResponded": responded,
                        "SortOrder": order,
                    },
                )
        self.refresh_hierarchy(record["Id"])
        if previous is not None and previous.get("ParentId") != record.get("ParentId"):
            self.refresh_hierarchy(previous.get("ParentId"))

    def _orphan_children(self, campaign: dict[str, Any]) -> None:
        """A deleted campaign's children lose their parent (a lookup, not master-detail)."""
        for child in self._rows(CAMPAIGN, "ParentId", campaign["Id"]):
            self._system_put(CAMPAIGN, {**child, "ParentId": None})

    def refresh_hierarchy(self, campaign_id: str | None) -> None:
        """Recompute the Hierarchy* totals of a campaign and of every campaign above it."""
        seen: set[str] = set()
        while campaign_id and campaign_id not in seen and len(seen) < MAX_DEPTH:
            seen.add(campaign_id)
            campaign = self.store.get(CAMPAIGN, campaign_id)
            if campaign is None:
                return
            children = self._rows(CAMPAIGN, "ParentId", campaign_id)
            totals = {
                total: (campaign.get(own) or 0) + sum(c.get(total) or 0 for c in children)
                for total, own in CAMPAIGN_HIERARCHY.items()
            }
            for name, (kind, _label) in CAMPAIGN_HIERARCHY_FIELDS.items():
                if kind != "int":
                    totals[name] = float(totals[name])
            if any(campaign.get(name) != value for name, value in totals.items()):
                self.store._put(CAMPAIGN, {**campaign, **totals})
            campaign_id = campaign.get("ParentId")

    def _add_to_campaign(self, campaign_id: str, deltas: dict[str, int]) -> None:
        campaign = self.store.get(CAMPAIGN, campaign_id)
        if campaign is None or not any(deltas.values()):
            return
        updated = dict(campaign)
        for name, delta in deltas.items():
            updated[name] = max((updated.get(name) or 0) + delta, 0)
        self.store._put(CAMPAIGN, updated)
        self.refresh_hierarchy(campaign_id)

    # CampaignMember ----------------------------------------------------------------------------
    def _derive_member(self, record: dict[str, Any], previous: dict[str, Any] | None) -> None:
        if previous is None:
            self._copy_person(record)
        statuses = self._rows(STATUS, "CampaignId", record.get("CampaignId"))
        status = record.get("Status")
        if status is None or status == "":
            if previous is not None:
                raise _bad_status(status)
            default = next((s for s in statuses if s["IsDefault"]), None)
            status = default["Label"] if default else None
        match = _label_match(statuses, status)
        if match is None:
            raise _bad_status(status)
        record["Status"] = match["Label"]
        record["HasResponded"] = bool(match["HasResponded"])
        if record["HasResponded"] and not record.get("FirstRespondedDate"):
            record["FirstRespondedDate"] = self.store.now().date().isoformat()

    def _copy_person(self, record: dict[str, Any]) -> None:
        if record.get("ContactId") and record.get("LeadId"):
            record["LeadId"] = None  # "a successful insert, but only the ContactId is inserted"
        person_id = record.get("ContactId") or record.get("LeadId")
        if not person_id:
            raise SfError(
                "REQUIRED_FIELD_MISSING",
                "Required fields are missing: [ContactId or LeadId]",
                ["ContactId", "LeadId"],
            )
        person_type = "Contact" if record.get("ContactId") else "Lead"
        person = self.store.get(person_type, person_id) or {}
        for key in PERSON_COPIES:
            record[key] = person.get(key)
        record["HasOptedOutOfEmail"] = bool(record["HasOptedOutOfEmail"])
        record["DoNotCall"] = bool(record["DoNotCall"])
        record["Type"] = person_type
        record["LeadOrContactId"] = person_id
        record["LeadOrContactOwnerId"] = person.get("OwnerId")
        if person_type == "Lead":
            record["CompanyOrAccount"] = person.get("Company")
        else:
            account = self.store.get("Account", person.get("AccountId") or "") or {}
            record["CompanyOrAccount"] = account.get("Name")

    def _member_figures(self, member: dict[str, Any] | None) -> dict[str, int]:
        """What one member adds to its campaign's statistics."""
        if not member or member.get("IsDeleted"):
            return {}
        figures = {"NumberOfResponses": int(bool(member.get("HasResponded")))}
        if member.get("ContactId"):
            figures["NumberOfContacts"] = 1
            return figures
        figures["NumberOfLeads"] = 1
        lead = self.store.get("Lead", member.get("LeadId") or "") or {}
        figures["NumberOfConvertedLeads"] = int(bool(lead.get("IsConverted")))
        return figures

    def _count_member(self, record: dict[str, Any] | None, previous: dict[str, Any] | None) -> None:
        after, before = self._member_figures(record), self._member_figures(previous)
        deltas = {name: after.get(name, 0) - before.get(name, 0) for name in {*after, *before}}
        campaign_id = (record or previous or {}).get("CampaignId")
        if campaign_id:
            self._add_to_campaign(campaign_id, deltas)

    # CampaignMemberStatus ----------------------------------------------------------------------
    def _derive_status(self, record: dict[str, Any], previous: dict[str, Any] | None) -> None:
        siblings = [
            s
            for s in self._rows(STATUS, "CampaignId", record.get("CampaignId"))
            if s["Id"] != record["Id"]
        ]
        if previous is None:
            if record.get("SortOrder") is None:
                record["SortOrder"] = (
                    max((s.get("SortOrder") or 0 for s in siblings), default=0) + 1
                )
            return
        if previous["IsDefault"] and not record["IsDefault"]:
            raise SfError(
                "FIELD_INTEGRITY_EXCEPTION",
                "A campaign must have a default member status: make another status the default "
                "instead",
                ["IsDefault"],
            )
        dropped = previous["HasResponded"] and not record["HasResponded"]
        if dropped and not any(s["HasResponded"] for s in siblings):
            raise SfError(
                "FIELD_INTEGRITY_EXCEPTION",
                "A campaign must have at least one member status that counts as responded",
                ["HasResponded"],
            )

    def _after_status_write(self, record: dict[str, Any], previous: dict[str, Any] | None) -> None:
        self._learn_label(record["Label"])
        if record["IsDefault"]:
            for other in self._rows(STATUS, "CampaignId", record["CampaignId"]):
                if other["Id"] != record["Id"] and other["IsDefault"]:
                    self._system_put(STATUS, {**other, "IsDefault": False})
        if previous is None:
            return
        renamed = previous["Label"] != record["Label"]
        if not renamed and previous["HasResponded"] == record["HasResponded"]:
            return
        members = self.store.schema.objects[MEMBER]
        values = {"Status": record["Label"]} if renamed else {}
        for member in self._members_with(previous):
            self.store.update(members, member["Id"], dict(values))

    def _check_status_deletable(self, record: dict[str, Any]) -> None:
        if record["IsDefault"]:
            raise SfError("DELETE_FAILED", "You can't delete the default campaign member status.")
        siblings = self._rows(STATUS, "CampaignId", record["CampaignId"])
        if record["HasResponded"] and not any(
            s["HasResponded"] for s in siblings if s["Id"] != record["Id"]
        ):
            raise SfError(
                "DELETE_FAILED",
                "You can't delete the campaign's last member status that counts as responded.",
            )
        if self._members_with(record):
            raise SfError(
                "DELETE_FAILED",
                f"You can't delete the member status {record['Label']}: campaign members have it.",
            )

    def _members_with(self, status: dict[str, Any]) -> list[dict[str, Any]]:
        label = str(status["Label"]).lower()
        return [
            m
            for m in self._rows(MEMBER, "CampaignId", status["CampaignId"])
            if str(m.get("Status") or "").lower() == label
        ]

    def _learn_label(self, label: Any) -> None:
        field_def = self.store.schema.objects[MEMBER].fields["Status"]
        values = field_def.picklist if field_def.picklist is not None else []
        if label and label not in values:
            field_def.picklist = [*values, str(label)]

    # Helpers -----------------------------------------------------------------------------------
    def _rows(self, sobject: str, field: str, value: Any) -> list[dict[str, Any]]:
        """Live records of ``sobject`` whose indexed ``field`` equals ``value``."""
        if not value:
            return []
        definition = self.store.schema.objects[sobject]
        table = self.store.table(sobject)
        return [table[i] for i in self.store.find_by(sobject, definition.fields[field], value)]

    def _system_put(self, sobject: str, record: dict[str, Any]) -> None:
        """A change Salesforce makes by itself: the row's modification stamps move."""
        stamp = self.store.stamp()
        self.store._put(sobject, {**record, "LastModifiedDate": stamp, "SystemModstamp": stamp})
        if sobject == CAMPAIGN:
            self.refresh_hierarchy(record["Id"])


def _label_match(statuses: list[dict[str, Any]], status: Any) -> dict[str, Any] | None:
    if not isinstance(status, str):
        return None
    wanted = status.lower()
    return next((s for s in statuses if str(s["Label"]).lower() == wanted), None)


def _bad_status(status: Any) -> SfError:
    shown = "null" if status is None or status == "" else status
    return SfError(
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        f"Status: bad value for restricted picklist field: {shown}",
        ["Status"],
    )
