"""The Salesforce custom objects and fields cmsync owns, as data, and ``ensure_schema``.

Every object has the external id ``CM_Key__c`` (unique), so every write is an idempotent upsert.
``ensure_schema`` creates whatever is missing through the Tooling API (``CustomObject``,
``CustomField``) and grants access through the permission set ``cmsync_Integration``
(``ObjectPermissions`` / ``FieldPermissions`` rows, then a ``PermissionSetAssignment`` for the
connected user): fields created through an API are invisible until someone is granted access.
Running it again creates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .email_types import EmailType
from .errors import PermanentError

if TYPE_CHECKING:
    from .salesforce import SalesforceClient

EXTERNAL_ID = "CM_Key__c"
PERMISSION_SET_NAME = "cmsync_Integration"
PERMISSION_SET_LABEL = "cmsync Integration"

CLIENT_OBJECT = "CMS_Client__c"
LIST_OBJECT = "CMS_List__c"
SUBSCRIBER_OBJECT = "CMS_Subscriber__c"
CAMPAIGN_OBJECT = "CMS_Campaign__c"
TRACKING_OBJECT = "CMS_Email_Tracking__c"
SUPPRESSION_OBJECT = "CMS_Suppression__c"

SUBSCRIBER_STATES = ("Active", "Unsubscribed", "Bounced", "Deleted", "Unconfirmed")
CONSENT_VALUES = ("Yes", "No", "Unchanged")
EVENT_TYPES = tuple(EmailType.values)  # the Event_Type__c picklist


def subscriber_key(list_id: str, email: str) -> str:
    """``CM_Key__c`` of a subscriber × list membership: ``<listid>:<lowercased email>``."""
    return f"{list_id}:{email.strip().lower()}"


def suppression_key(client_id: str, email: str) -> str:
    """``CM_Key__c`` of a suppression row: ``<clientid>:<lowercased email>``."""
    return f"{client_id}:{email.strip().lower()}"


@dataclass(frozen=True)
class FieldSpec:
    """One custom field, in Tooling API ``CustomField.Metadata`` terms."""

    name: str
    type: str  # Text, Email, Phone, Url, Number, DateTime, Picklist, LongTextArea, Lookup
    label: str
    length: int | None = None
    external_id: bool = False
    unique: bool = False
    values: tuple[str, ...] = ()
    reference_to: str | None = None
    relationship_name: str | None = None  # child relationship name seen from the parent
    precision: int | None = None
    scale: int | None = None

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"label": self.label, "type": self.type}
        if self.type == "Text":
            meta["length"] = self.length or 255
        if self.type == "LongTextArea":
            meta.update(length=self.length or 32768, visibleLines=3)
        if self.external_id:
            meta["externalId"] = True
        if self.unique:
            meta.update(unique=True, caseSensitive=False)
        if self.type == "Number":
            meta.update(precision=self.precision or 18, scale=self.scale or 0)
        if self.type == "Checkbox":
            meta["defaultValue"] = False
        if self.type == "Picklist":
            meta["valueSet"] = {
                "restricted": True,
                "valueSetDefinition": {
                    "sorted": False,
                    "value": [
                        {"fullName": value, "label": value, "default": False}
                        for value in self.values
                    ],
                },
            }
        if self.type == "Lookup":
            meta.update(
                referenceTo=self.reference_to,
                relationshipName=self.relationship_name,
                relationshipLabel=self.relationship_name.replace("_", " ")
                if self.relationship_name
                else None,
                deleteConstraint="SetNull",
            )
        return meta


@dataclass(frozen=True)
class ObjectSpec:
    """One custom object: its Text name field plus custom fields."""

    name: str
    label: str
    plural_label: str
    name_label: str
    description: str
    fields: tuple[FieldSpec, ...] = field(default_factory=tuple)

    def metadata(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "pluralLabel": self.plural_label,
            "description": self.description,
            "nameField": {"type": "Text", "label": self.name_label},
            "deploymentStatus": "Deployed",
            "sharingModel": "ReadWrite",  # owned records (OwnerId), org-wide read/write
            "enableActivities": False,
            "enableReports": True,
            "enableSearch": True,
        }

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.fields)


def _key(length: int) -> FieldSpec:
    return FieldSpec(EXTERNAL_ID, "Text", "CM Key", length=length, external_id=True, unique=True)


def _text(name: str, label: str, length: int = 64) -> FieldSpec:
    return FieldSpec(name, "Text", label, length=length)


def _count(name: str, label: str) -> FieldSpec:
    return FieldSpec(name, "Number", label, precision=18, scale=0)


def _lookup(name: str, label: str, target: str, child_relationship: str) -> FieldSpec:
    return FieldSpec(
        name, "Lookup", label, reference_to=target, relationship_name=child_relationship
    )


def _picklist(name: str, label: str, values: tuple[str, ...]) -> FieldSpec:
    return FieldSpec(name, "Picklist", label, values=values)


CLIENT = ObjectSpec(
    CLIENT_OBJECT,
    "CM Client",
    "CM Clients",
    "Client Name",
    "A Campaign Monitor client (synced by cmsync).",
    (_key(64),),
)
LIST = ObjectSpec(
    LIST_OBJECT,
    "CM List",
    "CM Lists",
    "List Name",
    "A Campaign Monitor subscriber list (synced by cmsync).",
    (_key(64), _text("CM_Client_ID__c", "CM Client ID")),
)
SUBSCRIBER = ObjectSpec(
    SUBSCRIBER_OBJECT,
    "CM Subscriber",
    "CM Subscribers",
    "Email",
    "One subscriber's membership of one Campaign Monitor list (synced by cmsync).",
    (
        _key(255),
        FieldSpec("Email__c", "Email", "Email"),
        _text("CM_List_ID__c", "CM List ID"),
        _text("CM_Client_ID__c", "CM Client ID"),
        _picklist("State__c", "State", SUBSCRIBER_STATES),
        _text("Subscriber_Name__c", "Subscriber Name", 255),
        FieldSpec("Mobile_Number__c", "Phone", "Mobile Number"),
        _picklist("Consent_To_Track__c", "Consent To Track", CONSENT_VALUES),
        _picklist("SMS_Consent__c", "SMS Consent", CONSENT_VALUES),
        FieldSpec("Joined_Date__c", "DateTime", "Joined Date"),
        FieldSpec("Custom_Fields__c", "LongTextArea", "Custom Fields", length=32768),
        _lookup("Contact__c", "Contact", "Contact", "CMS_Subscribers"),
        _lookup("Lead__c", "Lead", "Lead", "CMS_Subscribers"),
    ),
)
# Industry benchmarks on cmsync's campaign record (filled by the Salesforce Campaigns feature
# through the ``decorate_campaign_record`` hook): the industry compared with (and the figures'
# year), and per rate the industry average and the campaign's difference from it, in points.
CAMPAIGN_BENCHMARK_INDUSTRY = "Benchmark_Industry__c"
CAMPAIGN_BENCHMARK_FIELDS: dict[str, tuple[str, str]] = {
    # rate → (industry average field, difference field)
    "open_rate": ("Benchmark_Open_Rate__c", "Open_Rate_Difference__c"),
    "click_rate": ("Benchmark_Click_Rate__c", "Click_Rate_Difference__c"),
    "click_to_open_rate": ("Benchmark_Click_To_Open_Rate__c", "Click_To_Open_Rate_Difference__c"),
    "unsubscribe_rate": ("Benchmark_Unsubscribe_Rate__c", "Unsubscribe_Rate_Difference__c"),
}


def _percent(name: str, label: str) -> FieldSpec:
    return FieldSpec(name, "Number", label, precision=5, scale=2)


CAMPAIGN = ObjectSpec(
    CAMPAIGN_OBJECT,
    "CM Campaign",
    "CM Campaigns",
    "Campaign Name",
    "A sent Campaign Monitor campaign and its statistics (synced by cmsync).",
    (
        _key(64),
        _text("CM_Client_ID__c", "CM Client ID"),
        _text("Subject__c", "Subject", 255),
        FieldSpec("Sent_Date__c", "DateTime", "Sent Date"),
        _text("Tags__c", "Tags", 255),
        _count("Recipients__c", "Recipients"),
        _count("Unique_Opens__c", "Unique Opens"),
        _count("Total_Opens__c", "Total Opens"),
        _count("Clicks__c", "Clicks"),
        _count("Unsubscribes__c", "Unsubscribes"),
        _count("Bounces__c", "Bounces"),
        _count("Spam_Complaints__c", "Spam Complaints"),
        FieldSpec("Web_Version_URL__c", "Url", "Web Version URL"),
        _lookup("Campaign__c", "Campaign", "Campaign", "CMS_Campaigns"),
        _text(CAMPAIGN_BENCHMARK_INDUSTRY, "Benchmark Industry", 120),
        *(
            spec
            for rate, (average, difference) in CAMPAIGN_BENCHMARK_FIELDS.items()
            for spec in (
                _percent(average, f"Benchmark {rate.replace('_', ' ').title()} %"),
                _percent(difference, f"{rate.replace('_', ' ').title()} Difference (points)"),
            )
        ),
    ),
)
TRACKING = ObjectSpec(
    TRACKING_OBJECT,
    "CM Email Tracking",
    "CM Email Tracking",
    "Event",
    "One Campaign Monitor tracking event: sent, open, click, bounce, ... (synced by cmsync).",
    (
        _key(255),
        _text("CM_Campaign_ID__c", "CM Campaign ID"),
        _text("CM_Client_ID__c", "CM Client ID"),
        FieldSpec("Email__c", "Email", "Email"),
        _picklist("Event_Type__c", "Event Type", EVENT_TYPES),
        FieldSpec("Event_Date__c", "DateTime", "Event Date"),
        # Click URLs outgrow the 255 characters of Text and Url fields.
        FieldSpec("URL__c", "LongTextArea", "URL", length=1024),
        _text("Detail__c", "Detail", 255),
        _lookup("Contact__c", "Contact", "Contact", "CMS_Email_Tracking"),
        _lookup("Lead__c", "Lead", "Lead", "CMS_Email_Tracking"),
        _lookup("Campaign__c", "CM Campaign", CAMPAIGN_OBJECT, "CMS_Email_Tracking"),
    ),
)
SUPPRESSION = ObjectSpec(
    SUPPRESSION_OBJECT,
    "CM Suppression",
    "CM Suppressions",
    "Email",
    "An address on a Campaign Monitor client's suppression list (synced by cmsync).",
    (
        _key(255),
        FieldSpec("Email__c", "Email", "Email"),
        _text("CM_Client_ID__c", "CM Client ID"),
        _text("Reason__c", "Reason", 255),
        FieldSpec("Suppressed_Date__c", "DateTime", "Suppressed Date"),
        _lookup("Contact__c", "Contact", "Contact", "CMS_Suppressions"),
        _lookup("Lead__c", "Lead", "Lead", "CMS_Suppressions"),
    ),
)

# In creation order: CMS_Email_Tracking__c.Campaign__c looks up CMS_Campaign__c.
OBJECTS: tuple[ObjectSpec, ...] = (CLIENT, LIST, SUBSCRIBER, CAMPAIGN, TRACKING, SUPPRESSION)
# Fields cmsync adds to standard objects: CampaignMember statistics ("campaign member
# aggregates"), computed from the tracking records cmsync stores.
CAMPAIGN_MEMBER_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("CMS_Sent__c", "Checkbox", "CM Sent"),
    FieldSpec("CMS_Opens__c", "Number", "CM Opens", precision=18, scale=0),
    FieldSpec("CMS_Clicks__c", "Number", "CM Clicks", precision=18, scale=0),
    FieldSpec("CMS_Bounced__c", "Checkbox", "CM Bounced"),
    FieldSpec("CMS_Unsubscribed__c", "Checkbox", "CM Unsubscribed"),
    FieldSpec("CMS_Spam_Complaint__c", "Checkbox", "CM Spam Complaint"),
    FieldSpec("CMS_Last_Activity__c", "DateTime", "CM Last Activity"),
)
# Fields cmsync adds to the standard Campaign: the Campaign Monitor statistics Salesforce has no
# standard field for (recipients go to the standard ``NumberSent``), and the CM campaign id of a
# Campaign cmsync created, an external id so creating it again is an upsert, never a duplicate.
CAMPAIGN_CM_ID = "CMS_CM_Campaign_ID__c"
CAMPAIGN_STATISTICS_FIELDS: dict[str, str] = {
    # statistic → cmsync field on Campaign
    "unique_opens": "CMS_Unique_Opens__c",
    "clicks": "CMS_Clicks__c",
    "bounces": "CMS_Bounces__c",
    "unsubscribes": "CMS_Unsubscribes__c",
    "spam_complaints": "CMS_Spam_Complaints__c",
    "open_rate": "CMS_Open_Rate__c",
    "click_rate": "CMS_Click_Rate__c",
    "bounce_rate": "CMS_Bounce_Rate__c",
    "unsubscribe_rate": "CMS_Unsubscribe_Rate__c",
    "spam_rate": "CMS_Spam_Rate__c",
}
CAMPAIGN_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(CAMPAIGN_CM_ID, "Text", "CM Campaign ID", length=64, external_id=True, unique=True),
    *(
        FieldSpec(name, "Number", f"CM {key.replace('_', ' ').title()}", precision=18, scale=0)
        for key, name in CAMPAIGN_STATISTICS_FIELDS.items()
        if not key.endswith("_rate")
    ),
    *(
        FieldSpec(name, "Number", f"CM {key.replace('_', ' ').title()} %", precision=5, scale=2)
        for key, name in CAMPAIGN_STATISTICS_FIELDS.items()
        if key.endswith("_rate")
    ),
)
STANDARD_OBJECT_FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "CampaignMember": CAMPAIGN_MEMBER_FIELDS,
    "Campaign": CAMPAIGN_FIELDS,
}

OBJECT_NAMES: tuple[str, ...] = tuple(spec.name for spec in OBJECTS)
OBJECTS_BY_NAME: dict[str, ObjectSpec] = {spec.name: spec for spec in OBJECTS}


@dataclass
class SchemaReport:
    """What ``ensure_schema`` created and what was already there, as ``"Kind:Name"`` items."""

    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)

    def note(self, item: str, created: bool) -> None:
        (self.created if created else self.existing).append(item)


def ensure_schema(client: SalesforceClient, assignee_id: str | None = None) -> SchemaReport:
    """Create the missing objects, fields and permissions; idempotent.

    ``assignee_id`` is the user who gets the permission set (default: the connected user).
    """
    report = SchemaReport()
    object_ids = _ensure_objects(client, report)
    _ensure_fields(client, object_ids, report)
    permission_set_id = _ensure_permission_set(client, report)
    _ensure_object_permissions(client, permission_set_id, report)
    _ensure_field_permissions(client, permission_set_id, report)
    user_id = assignee_id or client.user_id
    if user_id:
        _ensure_assignment(client, permission_set_id, user_id, report)
    return report


# Tooling: objects and fields -----------------------------------------------------------------
def _api_name(developer_name: str) -> str:
    return developer_name if developer_name.endswith("__c") else developer_name + "__c"


def _ensure_objects(client: SalesforceClient, report: SchemaReport) -> dict[str, str]:
    """Return {object API name: CustomObject id} for every object of ours."""
    rows = client.tooling_query("SELECT Id, DeveloperName FROM CustomObject")
    ids = {_api_name(str(row["DeveloperName"])).lower(): str(row["Id"]) for row in rows}
    found: dict[str, str] = {}
    for spec in OBJECTS:
        existing = ids.get(spec.name.lower())
        if existing:
            found[spec.name] = existing
        else:
            body = {"FullName": spec.name, "Metadata": spec.metadata()}
            found[spec.name] = client.tooling_create("CustomObject", body)
        report.note(f"CustomObject:{spec.name}", created=not existing)
    return found


def _ensure_fields(
    client: SalesforceClient, object_ids: dict[str, str], report: SchemaReport
) -> None:
    # TableEnumOrId is the CustomObject id for custom objects; accept the API name as well.
    owners = {object_id: name for name, object_id in object_ids.items()}
    owners.update({name.lower(): name for name in object_ids})
    owners.update({name.lower(): name for name in STANDARD_OBJECT_FIELDS})
    names = [*object_ids.values(), *object_ids, *STANDARD_OBJECT_FIELDS]
    tables = ", ".join(client.soql("{}", value) for value in names)
    rows = client.tooling_query(
        "SELECT Id, DeveloperName, TableEnumOrId FROM CustomField "
        f"WHERE TableEnumOrId IN ({tables})"
    )
    existing: set[tuple[str, str]] = set()
    for row in rows:
        table = str(row.get("TableEnumOrId") or "")
        owner = owners.get(table) or owners.get(table.lower())
        if owner:
            existing.add((owner, _api_name(str(row["DeveloperName"])).lower()))
    for sobject, field_spec in _all_fields():
        full_name = f"{sobject}.{field_spec.name}"
        there = (sobject, field_spec.name.lower()) in existing
        if not there:
            body = {"FullName": full_name, "Metadata": field_spec.metadata()}
            client.tooling_create("CustomField", body)
        report.note(f"CustomField:{full_name}", created=not there)


def _all_fields() -> list[tuple[str, FieldSpec]]:
    """Every custom field cmsync owns, on its own objects and on standard ones."""
    fields = [(spec.name, f) for spec in OBJECTS for f in spec.fields]
    fields += [(name, f) for name, specs in STANDARD_OBJECT_FIELDS.items() for f in specs]
    return fields


# Permissions (ordinary sObjects) --------------------------------------------------------------
def _ensure_permission_set(client: SalesforceClient, report: SchemaReport) -> str:
    soql = client.soql("SELECT Id FROM PermissionSet WHERE Name = {}", PERMISSION_SET_NAME)
    rows = list(client.query_iter(soql))
    if rows:
        report.note(f"PermissionSet:{PERMISSION_SET_NAME}", created=False)
        return str(rows[0]["Id"])
    record = {
        "Name": PERMISSION_SET_NAME,
        "Label": PERMISSION_SET_LABEL,
        "Description": "Access to the objects and fields cmsync syncs.",
    }
    [result] = _created(client, "PermissionSet", [record])
    report.note(f"PermissionSet:{PERMISSION_SET_NAME}", created=True)
    return str(result)


def _ensure_object_permissions(
    client: SalesforceClient, permission_set_id: str, report: SchemaReport
) -> None:
    soql = client.soql(
        "SELECT Id, SobjectType FROM ObjectPermissions WHERE ParentId = {}", permission_set_id
    )
    have = {str(row["SobjectType"]).lower() for row in client.query_iter(soql)}
    missing = [name for name in OBJECT_NAMES if name.lower() not in have]
    records = [
        {
            "ParentId": permission_set_id,
            "SobjectType": name,
            "PermissionsRead": True,
            "PermissionsCreate": True,
            "PermissionsEdit": True,
            "PermissionsDelete": True,
            "PermissionsViewAllRecords": True,
            "PermissionsModifyAllRecords": True,
        }
        for name in missing
    ]
    _created(client, "ObjectPermissions", records)
    for name in OBJECT_NAMES:
        report.note(f"ObjectPermissions:{name}", created=name in missing)


def _ensure_field_permissions(
    client: SalesforceClient, permission_set_id: str, report: SchemaReport
) -> None:
    soql = client.soql(
        "SELECT Id, Field FROM FieldPermissions WHERE ParentId = {}", permission_set_id
    )
    have = {str(row["Field"]).lower() for row in client.query_iter(soql)}
    wanted = [(sobject, f"{sobject}.{f.name}") for sobject, f in _all_fields()]
    missing = [(sobject, name) for sobject, name in wanted if name.lower() not in have]
    records = [
        {
            "ParentId": permission_set_id,
            "SobjectType": sobject,
            "Field": name,
            "PermissionsRead": True,
            "PermissionsEdit": True,
        }
        for sobject, name in missing
    ]
    _created(client, "FieldPermissions", records)
    missing_names = {name for _, name in missing}
    for _, name in wanted:
        report.note(f"FieldPermissions:{name}", created=name in missing_names)


def _ensure_assignment(
    client: SalesforceClient, permission_set_id: str, user_id: str, report: SchemaReport
) -> None:
    soql = client.soql(
        "SELECT Id FROM PermissionSetAssignment WHERE PermissionSetId = {} AND AssigneeId = {}",
        permission_set_id,
        user_id,
    )
    there = bool(list(client.query_iter(soql)))
    if not there:
        record = {"PermissionSetId": permission_set_id, "AssigneeId": user_id}
        _created(client, "PermissionSetAssignment", [record])
    report.note(f"PermissionSetAssignment:{user_id}", created=not there)


def _created(client: SalesforceClient, sobject: str, records: list[dict[str, Any]]) -> list[str]:
    """Create rows; any refused row stops ensure_schema with Salesforce's reasons."""
    if not records:
        return []
    results = client.create(sobject, records)
    failed = [result for result in results if not result.success]
    if failed:
        reasons = "; ".join(result.error_text for result in failed[:5])
        raise PermanentError(
            f"Salesforce refused {len(failed)} {sobject} row(s): {reasons}",
            code=failed[0].errors[0].code if failed[0].errors else None,
            endpoint="composite.sobjects.create",
        )
    return [str(result.sf_id) for result in results]
