"""The sandbox org's schema: standard objects, custom objects and fields added through the
Tooling API, their describe payloads and a simple page-layout structure per object.

Field types use Salesforce's describe names (``string``, ``email``, ``picklist``, ``reference``,
``boolean``, ``int``, ``double``, ``currency``, ``percent``, ``date``, ``datetime``, ``textarea``,
``phone``, ``url``, ``id``, ``multipicklist``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

SYSTEM_FIELDS = (
    "Id",
    "IsDeleted",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
)

_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
}


def label_from_name(name: str) -> str:
    """``HasOptedOutOfEmail`` → ``Has Opted Out Of Email``; ``Foo_Bar__c`` → ``Foo Bar``."""
    base = name[:-3] if name.endswith("__c") else name
    base = base.replace("_", " ")
    if base.endswith("Id") and len(base) > 2 and base not in {"Id"}:
        base = base[:-2] + " ID"
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", base).strip()


@dataclass
class FieldDef:
    name: str
    type: str = "string"
    label: str = ""
    length: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    unique: bool = False
    external_id: bool = False
    id_lookup: bool = False
    case_sensitive: bool = False
    picklist: list[str] | None = None
    restricted: bool = False
    reference_to: list[str] = field(default_factory=list)
    relationship_name: str | None = None
    default: Any = None
    custom: bool = False
    calculated: bool = False
    name_field: bool = False
    auto_number: bool = False
    precision: int = 0
    scale: int = 0
    tooling_id: str | None = None  # the CustomField id for custom fields
    metadata: dict[str, Any] | None = None  # the Tooling Metadata it was created from

    def __post_init__(self) -> None:
        if not self.label:
            self.label = label_from_name(self.name)
        if self.type in {"boolean"}:
            self.nillable = False
            if self.default is None:
                self.default = False

    @property
    def required(self) -> bool:
        """Salesforce's notion: must be supplied on create (not nillable, no default, writable)."""
        return (
            self.createable
            and not self.nillable
            and not self.defaulted_on_create
            and self.type != "boolean"
            and not self.auto_number
        )

    @property
    def defaulted_on_create(self) -> bool:
        return self.default is not None or self.name in SYSTEM_FIELDS or self.name == "OwnerId"

    def describe(self) -> dict[str, Any]:
        picklist_values = [
            {
                "active": True,
                "defaultValue": value == self.default,
                "label": value,
                "validFor": None,
                "value": value,
            }
            for value in (self.picklist or [])
        ]
        default_value = self.default
        if self.type == "picklist":
            default_value = None  # Salesforce reports picklist defaults on the value, not here
        return {
            "aggregatable": self.type not in {"textarea", "multipicklist", "boolean"},
            "autoNumber": self.auto_number,
            "byteLength": self.length * 3,
            "calculated": self.calculated,
            "caseSensitive": self.case_sensitive,
            "createable": self.createable,
            "custom": self.custom,
            "defaultValue": default_value,
            "defaultedOnCreate": self.defaulted_on_create,
            "digits": 0,
            "externalId": self.external_id,
            "filterable": self.type != "textarea" or self.length <= 255,
            "groupable": self.type not in {"textarea", "double", "currency", "percent"},
            "htmlFormatted": False,
            "idLookup": self.id_lookup or self.name == "Id",
            "label": self.label,
            "length": self.length,
            "name": self.name,
            "nameField": self.name_field,
            "nillable": self.nillable,
            "picklistValues": picklist_values,
            "precision": self.precision,
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "restrictedPicklist": self.restricted,
            "scale": self.scale,
            "soapType": _SOAP_TYPES.get(self.type, "xsd:string"),
            "sortable": self.type not in {"textarea", "multipicklist"},
            "type": self.type,
            "unique": self.unique,
            "updateable": self.updateable,
        }


@dataclass
class ObjectDef:
    name: str
    key_prefix: str
    label: str = ""
    label_plural: str = ""
    custom: bool = False
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    fields: dict[str, FieldDef] = field(default_factory=dict)
    layout: dict[str, Any] = field(default_factory=dict)
    tooling_id: str | None = None  # the CustomObject id for custom objects
    metadata: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if not self.label:
            self.label = label_from_name(self.name)
        if not self.label_plural:
            self.label_plural = self.label + "s"
        self._lower: dict[str, str] = {name.lower(): name for name in self.fields}

    def add_field(self, definition: FieldDef) -> None:
        self.fields[definition.name] = definition
        self._lower[definition.name.lower()] = definition.name

    def field(self, name: str) -> FieldDef | None:
        canonical = self._lower.get(name.lower())
        return self.fields[canonical] if canonical else None

    @property
    def name_field(self) -> FieldDef | None:
        return next((f for f in self.fields.values() if f.name_field), None)

    def relationship(self, name: str) -> FieldDef | None:
        lower = name.lower()
        for definition in self.fields.values():
            if definition.relationship_name and definition.relationship_name.lower() == lower:
                return definition
        return None

    def urls(self, version: str) -> dict[str, str]:
        base = f"/services/data/v{version}/sobjects/{self.name}"
        return {
            "compactLayouts": f"{base}/describe/compactLayouts",
            "rowTemplate": f"{base}/{{ID}}",
            "defaultValues": f"{base}/defaultValues?recordTypeId&fields",
            "describe": f"{base}/describe",
            "layouts": f"{base}/describe/layouts",
            "listviews": f"{base}/listviews",
            "sobject": base,
        }

    def summary(self, version: str) -> dict[str, Any]:
        return {
            "activateable": False,
            "createable": self.createable,
            "custom": self.custom,
            "customSetting": False,
            "deletable": self.deletable,
            "deprecatedAndHidden": False,
            "feedEnabled": False,
            "hasSubtypes": False,
            "isSubtype": False,
            "keyPrefix": self.key_prefix,
            "label": self.label,
            "labelPlural": self.label_plural,
            "layoutable": True,
            "mergeable": self.name in {"Account", "Contact", "Lead"},
            "mruEnabled": True,
            "name": self.name,
            "queryable": True,
            "replicateable": True,
            "retrieveable": True,
            "searchable": True,
            "triggerable": True,
            "undeletable": self.deletable,
            "updateable": self.updateable,
            "urls": self.urls(version),
        }


def _system_fields(prefix_owner: bool) -> list[FieldDef]:
    ro = {"createable": False, "updateable": False}
    fields = [
        FieldDef("Id", "id", "Record ID", length=18, nillable=False, **ro),
        FieldDef("IsDeleted", "boolean", "Deleted", **ro),
        FieldDef("CreatedDate", "datetime", "Created Date", nillable=False, **ro),
        FieldDef(
            "CreatedById",
            "reference",
            "Created By ID",
            length=18,
            nillable=False,
            reference_to=["User"],
            relationship_name="CreatedBy",
            **ro,
        ),
        FieldDef("LastModifiedDate", "datetime", "Last Modified Date", nillable=False, **ro),
        FieldDef(
            "LastModifiedById",
            "reference",
            "Last Modified By ID",
            length=18,
            nillable=False,
            reference_to=["User"],
            relationship_name="LastModifiedBy",
            **ro,
        ),
        FieldDef("SystemModstamp", "datetime", "System Modstamp", nillable=False, **ro),
    ]
    if prefix_owner:
        fields.insert(
            1,
            FieldDef(
                "OwnerId",
                "reference",
                "Owner ID",
                length=18,
                nillable=False,
                reference_to=["User"],
                relationship_name="Owner",
            ),
        )
    return fields


def _s(name: str, length: int = 255, **kw: Any) -> FieldDef:
    return FieldDef(name, kw.pop("type", "string"), length=length, **kw)


def _ref(name: str, target: str, relationship: str, **kw: Any) -> FieldDef:
    return FieldDef(
        name,
        "reference",
        length=18,
        reference_to=[target],
        relationship_name=relationship,
        **kw,
    )


def _pick(name: str, values: list[str], **kw: Any) -> FieldDef:
    kw.setdefault("length", 255)
    return FieldDef(name, "picklist", picklist=values, **kw)


def _bool(name: str, **kw: Any) -> FieldDef:
    return FieldDef(name, "boolean", **kw)


_RO = {"createable": False, "updateable": False}
_CREATE_ONLY = {"updateable": False}

INDUSTRIES = ["Agriculture", "Banking", "Education", "Retail", "Technology", "Media", "Other"]
LEAD_SOURCES = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"]
LEAD_STATUSES = [
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
]
# Campaign picklists as a new org has them: Type and Status are standard, unrestricted picklists
# (the API stores any value); Status defaults to "Planned".
CAMPAIGN_TYPES = [
    "Conference",
    "Webinar",
    "Trade Show",
    "Public Relations",
    "Partners",
    "Referral Program",
    "Advertisement",
    "Banner Ads",
    "Direct Mail",
    "Email",
    "Telemarketing",
    "Other",
]
CAMPAIGN_STATUSES = ["Planned", "In Progress", "Completed", "Aborted"]
# Campaign statistics Salesforce calculates (read-only through the API): members and responses
# come from CampaignMember rows (sandbox.sf.campaigns keeps them); the sandbox org has no
# Opportunity object, so the opportunity figures stay 0.
CAMPAIGN_COUNTS = {
    "NumberOfContacts": "Contacts in Campaign",
    "NumberOfLeads": "Leads in Campaign",
    "NumberOfConvertedLeads": "Converted Leads in Campaign",
    "NumberOfResponses": "Responses in Campaign",
    "NumberOfOpportunities": "Opportunities in Campaign",
    "NumberOfWonOpportunities": "Won Opportunities in Campaign",
}
CAMPAIGN_AMOUNTS = {
    "AmountAllOpportunities": "Value Opportunities in Campaign",
    "AmountWonOpportunities": "Value Won Opportunities in Campaign",
}
# Hierarchy totals: the campaign's own figure plus those of every campaign below it (ParentId).
CAMPAIGN_HIERARCHY = {
    "HierarchyNumberSent": "NumberSent",
    "HierarchyNumberOfContacts": "NumberOfContacts",
    "HierarchyNumberOfLeads": "NumberOfLeads",
    "HierarchyNumberOfConvertedLeads": "NumberOfConvertedLeads",
    "HierarchyNumberOfResponses": "NumberOfResponses",
    "HierarchyNumberOfOpportunities": "NumberOfOpportunities",
    "HierarchyNumberOfWonOpportunities": "NumberOfWonOpportunities",
    "HierarchyExpectedRevenue": "ExpectedRevenue",
    "HierarchyBudgetedCost": "BudgetedCost",
    "HierarchyActualCost": "ActualCost",
    "HierarchyAmountAllOpportunities": "AmountAllOpportunities",
    "HierarchyAmountWonOpportunities": "AmountWonOpportunities",
}
CAMPAIGN_HIERARCHY_FIELDS = {
    "HierarchyNumberSent": ("double", "Total Num Sent in Hierarchy"),
    "HierarchyNumberOfContacts": ("int", "Total Contacts in Hierarchy"),
    "HierarchyNumberOfLeads": ("int", "Total Leads in Hierarchy"),
    "HierarchyNumberOfConvertedLeads": ("int", "Total Converted Leads in Hierarchy"),
    "HierarchyNumberOfResponses": ("int", "Total Responses in Hierarchy"),
    "HierarchyNumberOfOpportunities": ("int", "Total Opportunities in Hierarchy"),
    "HierarchyNumberOfWonOpportunities": ("int", "Total Won Opportunities in Hierarchy"),
    "HierarchyExpectedRevenue": ("currency", "Total Expected Revenue in Hierarchy"),
    "HierarchyBudgetedCost": ("currency", "Total Budgeted Cost in Hierarchy"),
    "HierarchyActualCost": ("currency", "Total Actual Cost in Hierarchy"),
    "HierarchyAmountAllOpportunities": ("currency", "Total Value Opportunities in Hierarchy"),
    "HierarchyAmountWonOpportunities": ("currency", "Total Value Won Opportunities in Hierarchy"),
}
# The CampaignMember.Status picklist of a new org; labels of new member statuses join it.
MEMBER_STATUSES = ["Sent", "Responded"]
TIME_ZONES = ["America/Los_Angeles", "America/New_York", "Europe/London", "Europe/Paris", "GMT"]
LOCALES = ["en_US", "en_GB", "fr_FR", "de_DE"]


def _person_fields() -> list[FieldDef]:
    return [
        _pick("Salutation", ["Mr.", "Ms.", "Mrs.", "Dr.", "Prof."]),
        _s("FirstName", 40),
        _s("LastName", 80, nillable=False),
        _s("Name", 121, name_field=True, calculated=True, **_RO),
        _s("Title", 128),
        FieldDef("Email", "email", length=80, id_lookup=True),
        FieldDef("Phone", "phone", length=40),
        FieldDef("MobilePhone", "phone", length=40),
        _bool("HasOptedOutOfEmail", label="Email Opt Out"),
        _bool("DoNotCall"),
        _pick("LeadSource", LEAD_SOURCES),
        FieldDef("Description", "textarea", length=32000),
        _s("EmailBouncedReason", 255),
        FieldDef("EmailBouncedDate", "datetime"),
    ]


def standard_objects() -> list[ObjectDef]:
    """Fresh definitions of the standard objects the sandbox org has."""
    account = [
        _s("Name", 255, nillable=False, name_field=True, label="Account Name"),
        _pick("Type", ["Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other"]),
        _pick("Industry", INDUSTRIES),
        _ref("ParentId", "Account", "Parent"),
        FieldDef("Phone", "phone", length=40),
        FieldDef("Website", "url", length=255),
        _s("BillingStreet", 255, type="textarea"),
        _s("BillingCity", 40),
        _s("BillingPostalCode", 20),
        _s("BillingCountry", 80),
        FieldDef("NumberOfEmployees", "int", precision=8),
        FieldDef("AnnualRevenue", "currency", precision=18, scale=0),
        FieldDef("Description", "textarea", length=32000),
    ]
    contact = [
        _ref("AccountId", "Account", "Account"),
        *_person_fields(),
        _s("Department", 80),
        FieldDef("Birthdate", "date"),
        _s("MailingStreet", 255, type="textarea"),
        _s("MailingCity", 40),
        _s("MailingState", 80),
        _s("MailingPostalCode", 20),
        _s("MailingCountry", 80),
    ]
    lead = [
        *_person_fields(),
        _s("Company", 255, nillable=False),
        _pick("Status", LEAD_STATUSES, nillable=False, default=LEAD_STATUSES[0], restricted=True),
        _pick("Industry", INDUSTRIES),
        _pick("Rating", ["Hot", "Warm", "Cold"]),
        _s("Street", 255, type="textarea"),
        _s("City", 40),
        _s("State", 80),
        _s("PostalCode", 20),
        _s("Country", 80),
        _bool("IsConverted", label="Converted", **_RO),
        FieldDef("ConvertedDate", "date", **_RO),
        _ref("ConvertedContactId", "Contact", "ConvertedContact", **_RO),
        _ref("ConvertedAccountId", "Account", "ConvertedAccount", **_RO),
    ]
    user = [
        _s("Username", 80, nillable=False, unique=True, id_lookup=True),
        FieldDef("Email", "email", length=128, nillable=False),
        _s("FirstName", 40),
        _s("LastName", 80, nillable=False),
        _s("Name", 121, name_field=True, calculated=True, **_RO),
        _s("Alias", 8, nillable=False),
        _s("CommunityNickname", 40),
        _s("Title", 80),
        _s("Department", 80),
        _s("CompanyName", 80),
        _bool("IsActive", label="Active", default=True),
        _ref("ProfileId", "Profile", "Profile", nillable=False),
        _ref("ManagerId", "User", "Manager"),
        _pick("UserType", ["Standard", "PowerPartner", "CsnOnly"], default="Standard", **_RO),
        _pick("TimeZoneSidKey", TIME_ZONES, nillable=False, restricted=True),
        _pick("LocaleSidKey", LOCALES, nillable=False, restricted=True),
        _pick("EmailEncodingKey", ["UTF-8", "ISO-8859-1"], nillable=False, restricted=True),
        _pick("LanguageLocaleKey", LOCALES, nillable=False, restricted=True),
        FieldDef("LastLoginDate", "datetime", **_RO),
    ]
    profile = [
        _s("Name", 255, nillable=False, name_field=True),
        _s("UserType", 40, **_RO),
        _s("Description", 255),
    ]
    campaign = [
        _s("Name", 80, nillable=False, name_field=True),
        _ref("ParentId", "Campaign", "Parent", label="Parent Campaign ID"),
        _pick("Type", CAMPAIGN_TYPES),
        _pick("Status", CAMPAIGN_STATUSES, default="Planned"),
        FieldDef("StartDate", "date"),
        FieldDef("EndDate", "date"),
        _bool("IsActive", label="Active"),
        FieldDef("ExpectedRevenue", "currency", label="Expected Revenue in Campaign", precision=18),
        FieldDef("BudgetedCost", "currency", label="Budgeted Cost in Campaign", precision=18),
        FieldDef("ActualCost", "currency", label="Actual Cost in Campaign", precision=18),
        FieldDef(
            "ExpectedResponse", "percent", label="Expected Response (%)", precision=10, scale=2
        ),
        FieldDef("NumberSent", "double", label="Num Sent in Campaign", precision=18),
        FieldDef("Description", "textarea", length=32000),
        FieldDef("LastActivityDate", "date", label="Last Activity", **_RO),
        *(
            FieldDef(name, "int", label=label, precision=9, **_RO)
            for name, label in CAMPAIGN_COUNTS.items()
        ),
        *(
            FieldDef(name, "currency", label=label, precision=18, **_RO)
            for name, label in CAMPAIGN_AMOUNTS.items()
        ),
        *(
            FieldDef(name, kind, label=label, precision=18, **_RO)
            for name, (kind, label) in CAMPAIGN_HIERARCHY_FIELDS.items()
        ),
    ]
    member = [
        _ref("CampaignId", "Campaign", "Campaign", nillable=False, **_CREATE_ONLY),
        _ref("ContactId", "Contact", "Contact", **_CREATE_ONLY),
        _ref("LeadId", "Lead", "Lead", **_CREATE_ONLY),
        _pick("Status", list(MEMBER_STATUSES), length=40),
        _bool("HasResponded", label="Responded", **_RO),
        FieldDef("FirstRespondedDate", "date", **_RO),
        _ref("LeadOrContactId", "Contact", "LeadOrContact", **_RO),
        _ref("LeadOrContactOwnerId", "User", "LeadOrContactOwner", **_RO),
        _s("Salutation", 40, **_RO),
        _s("FirstName", 40, **_RO),
        _s("LastName", 80, **_RO),
        _s("Name", 121, name_field=True, calculated=True, **_RO),
        _s("Title", 128, **_RO),
        FieldDef("Email", "email", length=80, **_RO),
        FieldDef("Phone", "phone", length=40, **_RO),
        FieldDef("MobilePhone", "phone", length=40, **_RO),
        _s("CompanyOrAccount", 255, **_RO),
        _bool("HasOptedOutOfEmail", label="Email Opt Out", **_RO),
        _bool("DoNotCall", **_RO),
        _s("Type", 40, **_RO),
    ]
    member_status = [
        _ref("CampaignId", "Campaign", "Campaign", nillable=False, **_CREATE_ONLY),
        _s("Label", 765, nillable=False, name_field=True, label="Member Status"),
        _bool("IsDefault", label="Is Default"),
        _bool("HasResponded", label="Responded"),
        FieldDef("SortOrder", "int", precision=9),
    ]
    permission_set = [
        _s("Name", 80, nillable=False, unique=True, name_field=True),
        _s("Label", 80, nillable=False),
        FieldDef("Description", "textarea", length=255),
        _bool("IsOwnedByProfile", **_RO),
        _bool("IsCustom", default=True, **_RO),
        _ref("ProfileId", "Profile", "Profile", **_RO),
        _s("NamespacePrefix", 15, **_RO),
        _bool("PermissionsApiEnabled", label="API Enabled"),
        _bool("PermissionsViewSetup", label="View Setup and Configuration"),
        _bool("PermissionsModifyAllData", label="Modify All Data"),
        _bool("PermissionsMarketingUser", label="Marketing User"),
    ]
    assignment = [
        _ref("AssigneeId", "User", "Assignee", nillable=False, **_CREATE_ONLY),
        _ref("PermissionSetId", "PermissionSet", "PermissionSet", nillable=False, **_CREATE_ONLY),
        FieldDef("ExpirationDate", "datetime"),
        _bool("IsActive", default=True, **_RO),
        _bool("IsRevoked", **_RO),
    ]
    field_permissions = [
        _ref("ParentId", "PermissionSet", "Parent", nillable=False, **_CREATE_ONLY),
        _s("SobjectType", 40, nillable=False, **_CREATE_ONLY),
        _s("Field", 255, nillable=False, name_field=True, **_CREATE_ONLY),
        _bool("PermissionsRead"),
        _bool("PermissionsEdit"),
    ]
    object_permissions = [
        _ref("ParentId", "PermissionSet", "Parent", nillable=False, **_CREATE_ONLY),
        _s("SobjectType", 40, nillable=False, name_field=True, **_CREATE_ONLY),
        _bool("PermissionsRead"),
        _bool("PermissionsCreate"),
        _bool("PermissionsEdit"),
        _bool("PermissionsDelete"),
        _bool("PermissionsViewAllRecords"),
        _bool("PermissionsModifyAllRecords"),
    ]
    organization = [
        _s("Name", 80, name_field=True, **_RO),
        _s("OrganizationType", 40, **_RO),
        _bool("IsSandbox", **_RO),
        _s("InstanceName", 5, **_RO),
    ]
    report = [
        _s("Name", 40, name_field=True, **_RO),
        _s("DeveloperName", 80, **_RO),
        _s("FolderName", 80, **_RO),
        _s("Format", 40, **_RO),
        _s("Description", 255, **_RO),
        FieldDef("LastRunDate", "datetime", **_RO),
    ]
    list_view = [
        _s("Name", 40, name_field=True, **_RO),
        _s("DeveloperName", 80, **_RO),
        _s("SobjectType", 40, **_RO),
    ]
    ro_object = {"createable": False, "updateable": False, "deletable": False}
    objects = [
        _object("Account", "001", account, owner=True),
        _object("Contact", "003", contact, owner=True),
        _object("Lead", "00Q", lead, owner=True),
        _object("User", "005", user, deletable=False),
        _object("Profile", "00e", profile, **ro_object),
        _object("Campaign", "701", campaign, owner=True),
        _object("CampaignMember", "00v", member),
        _object("CampaignMemberStatus", "01Y", member_status),
        _object("PermissionSet", "0PS", permission_set),
        _object("PermissionSetAssignment", "0Pa", assignment),
        _object("FieldPermissions", "01k", field_permissions),
        _object("ObjectPermissions", "110", object_permissions),
        _object("Organization", "00D", organization, **ro_object),
        _object("Report", "00O", report, **ro_object),
        _object("ListView", "00B", list_view, **ro_object),
    ]
    for definition in objects:
        definition.label_plural = _PLURALS.get(definition.name, definition.label_plural)
        definition.layout = default_layout(definition)
    return objects


_PLURALS = {
    "CampaignMemberStatus": "Campaign Member Statuses",
    "FieldPermissions": "Field Permissions",
    "ObjectPermissions": "Object Permissions",
    "PermissionSetAssignment": "Permission Set Assignments",
}


def _object(name: str, prefix: str, fields: list[FieldDef], owner: bool = False, **kw: Any):
    all_fields = _system_fields(owner)
    ordered = [all_fields[0], *fields, *all_fields[1:]]
    return ObjectDef(name, prefix, fields={f.name: f for f in ordered}, **kw)


# Layouts -------------------------------------------------------------------------------------

_RELATED = {
    "Account": [("Contacts", "Contact", "AccountId", ["Name", "Email", "Phone"])],
    "Contact": [("CampaignMembers", "CampaignMember", "ContactId", ["CampaignId", "Status"])],
    "Lead": [("CampaignMembers", "CampaignMember", "LeadId", ["CampaignId", "Status"])],
    "Campaign": [
        ("CampaignMembers", "CampaignMember", "CampaignId", ["Name", "Email", "Status"]),
    ],
    "PermissionSet": [
        ("Assignments", "PermissionSetAssignment", "PermissionSetId", ["AssigneeId"]),
    ],
}


def default_layout(definition: ObjectDef) -> dict[str, Any]:
    """A plain two-section layout: the writable fields, then the system information."""
    writable = [
        f.name
        for f in definition.fields.values()
        if (f.createable or f.updateable or f.name_field) and f.name not in SYSTEM_FIELDS
    ]
    system = [n for n in ("OwnerId", "CreatedById", "LastModifiedById") if n in definition.fields]
    writable = [n for n in writable if n not in system]
    related = [
        {
            "name": name,
            "label": label_from_name(name),
            "sobject": sobject,
            "field": fk,
            "fields": columns,
        }
        for name, sobject, fk, columns in _RELATED.get(definition.name, [])
    ]
    return {
        "name": f"{definition.name}-{definition.label} Layout",
        "sections": [
            {"label": f"{definition.label} Information", "columns": 2, "fields": writable},
            {"label": "System Information", "columns": 2, "fields": system},
        ],
        "relatedLists": related,
    }


def describe_layout(definition: ObjectDef, layout_id: str) -> dict[str, Any]:
    """The ``describe/layouts`` answer for an object's one layout."""
    sections = []
    for section in definition.layout.get("sections", []):
        columns = max(int(section.get("columns", 2)), 1)
        names = list(section.get("fields", []))
        rows = []
        for start in range(0, len(names), columns):
            items = []
            for name in names[start : start + columns]:
                field_def = definition.field(name)
                items.append(
                    {
                        "editableForNew": bool(field_def and field_def.createable),
                        "editableForUpdate": bool(field_def and field_def.updateable),
                        "label": field_def.label if field_def else name,
                        "layoutComponents": [
                            {
                                "details": field_def.describe() if field_def else None,
                                "type": "Field",
                                "value": name,
                            }
                        ],
                        "placeholder": False,
                        "required": bool(field_def and field_def.required),
                    }
                )
            rows.append({"layoutItems": items, "numItems": len(items)})
        sections.append(
            {
                "columns": columns,
                "heading": section.get("label", ""),
                "layoutRows": rows,
                "rows": len(rows),
                "useCollapsibleSection": False,
                "useHeading": True,
            }
        )
    related = [
        {
            "columns": [
                {"field": f"{item['sobject']}.{c}", "label": label_from_name(c), "name": c}
                for c in item.get("fields", [])
            ],
            "field": item.get("field"),
            "label": item.get("label"),
            "name": item.get("name"),
            "sobject": item.get("sobject"),
        }
        for item in definition.layout.get("relatedLists", [])
    ]
    layout = {
        "detailLayoutSections": sections,
        "editLayoutSections": sections,
        "id": layout_id,
        "relatedLists": related,
    }
    return {
        "layouts": [layout],
        "recordTypeMappings": [],
        "recordTypeSelectorRequired": [False],
    }


def layout_metadata(definition: ObjectDef) -> dict[str, Any]:
    """The Metadata API / Tooling ``Layout.Metadata`` shape of an object's layout."""
    sections = []
    for section in definition.layout.get("sections", []):
        columns = max(int(section.get("columns", 2)), 1)
        names = list(section.get("fields", []))
        layout_columns = [{"layoutItems": []} for _ in range(columns)]
        for index, name in enumerate(names):
            field_def = definition.field(name)
            behavior = "Edit"
            if field_def and field_def.required:
                behavior = "Required"
            elif field_def and not (field_def.createable or field_def.updateable):
                behavior = "Readonly"
            layout_columns[index % columns]["layoutItems"].append(
                {"field": name, "behavior": behavior}
            )
        sections.append(
            {
                "label": section.get("label", ""),
                "style": "TwoColumnsLeftToRight" if columns == 2 else "OneColumn",
                "layoutColumns": layout_columns,
            }
        )
    related = [
        {"relatedList": item.get("name"), "fields": list(item.get("fields", []))}
        for item in definition.layout.get("relatedLists", [])
    ]
    return {"layoutSections": sections, "relatedLists": related}


def layout_from_metadata(definition: ObjectDef, metadata: dict[str, Any]) -> dict[str, Any]:
    """Turn a Tooling ``Layout.Metadata`` back into the sandbox's simple layout structure."""
    sections = []
    for section in metadata.get("layoutSections") or []:
        columns = section.get("layoutColumns") or []
        per_column = [[i.get("field") for i in (c.get("layoutItems") or [])] for c in columns]
        names: list[str] = []
        for row in range(max((len(c) for c in per_column), default=0)):
            names.extend(c[row] for c in per_column if row < len(c) and c[row])
        sections.append(
            {"label": section.get("label", ""), "columns": max(len(columns), 1), "fields": names}
        )
    old_related = {item["name"]: item for item in definition.layout.get("relatedLists", [])}
    related = []
    for item in metadata.get("relatedLists") or []:
        name = item.get("relatedList")
        known = old_related.get(name, {})
        related.append(
            {
                "name": name,
                "label": known.get("label", label_from_name(str(name))),
                "sobject": known.get("sobject"),
                "field": known.get("field"),
                "fields": list(item.get("fields") or known.get("fields", [])),
            }
        )
    return {
        "name": definition.layout.get("name", ""),
        "sections": sections,
        "relatedLists": related,
    }


# Registry ------------------------------------------------------------------------------------

CUSTOM_FIELD_TYPES = {
    "text": "string",
    "textarea": "textarea",
    "longtextarea": "textarea",
    "email": "email",
    "phone": "phone",
    "url": "url",
    "number": "double",
    "currency": "currency",
    "percent": "percent",
    "checkbox": "boolean",
    "date": "date",
    "datetime": "datetime",
    "picklist": "picklist",
    "multiselectpicklist": "multipicklist",
    "lookup": "reference",
}


class SchemaError(ValueError):
    """Tooling metadata that cannot become a field or object; ``code`` is Salesforce's."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Schema:
    """Every object the org knows, by case-insensitive name and by key prefix."""

    def __init__(self) -> None:
        self.objects: dict[str, ObjectDef] = {}
        self._lower: dict[str, str] = {}
        self._prefixes: dict[str, str] = {}
        for definition in standard_objects():
            self.add(definition)

    def add(self, definition: ObjectDef) -> None:
        self.objects[definition.name] = definition
        self._lower[definition.name.lower()] = definition.name
        self._prefixes[definition.key_prefix] = definition.name

    def get(self, name: str) -> ObjectDef | None:
        canonical = self._lower.get(name.lower())
        return self.objects[canonical] if canonical else None

    def by_prefix(self, prefix: str) -> ObjectDef | None:
        name = self._prefixes.get(prefix)
        return self.objects[name] if name else None

    def next_custom_prefix(self) -> str:
        alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        for second in "0123456789":
            for third in alphabet[1:]:
                prefix = f"a{second}{third}"
                if prefix not in self._prefixes:
                    return prefix
        raise SchemaError("LIMIT_EXCEEDED", "too many custom objects")

    def child_relationships(self, name: str) -> list[dict[str, Any]]:
        children = []
        for other in self.objects.values():
            for definition in other.fields.values():
                if name in definition.reference_to and definition.relationship_name:
                    children.append(
                        {
                            "cascadeDelete": False,
                            "childSObject": other.name,
                            "field": definition.name,
                            "relationshipName": _child_relationship_name(other, definition),
                        }
                    )
        return children

    def describe(self, definition: ObjectDef, version: str) -> dict[str, Any]:
        payload = definition.summary(version)
        payload.update(
            {
                "actionOverrides": [],
                "childRelationships": self.child_relationships(definition.name),
                "fields": [f.describe() for f in definition.fields.values()],
                "namedLayoutInfos": [],
                "networkScopeFieldName": None,
                "recordTypeInfos": [],
                "supportedScopes": [
                    {"label": "All " + definition.label_plural, "name": "everything"}
                ],
            }
        )
        return payload

    # Custom objects and fields from Tooling metadata -------------------------------------------
    def add_custom_object(self, full_name: str, metadata: dict[str, Any], tooling_id: str):
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*__c", full_name or "") or "___" in full_name:
            raise SchemaError(
                "FIELD_INTEGRITY_EXCEPTION",
                f"Invalid FullName {full_name!r}: custom object names end in __c",
            )
        if self.get(full_name):
            raise SchemaError(
                "DUPLICATE_DEVELOPER_NAME",
                f"There is already an object named {full_name}",
            )
        label = str(metadata.get("label") or label_from_name(full_name))
        name_meta = metadata.get("nameField") or {}
        auto = str(name_meta.get("type", "Text")).lower() == "autonumber"
        name_field = FieldDef(
            "Name",
            "string",
            str(name_meta.get("label") or f"{label} Name"),
            length=80,
            nillable=auto,
            createable=not auto,
            updateable=not auto,
            name_field=True,
            auto_number=auto,
        )
        system = _system_fields(True)
        ordered = [system[0], name_field, *system[1:]]
        definition = ObjectDef(
            full_name,
            self.next_custom_prefix(),
            label=label,
            label_plural=str(metadata.get("pluralLabel") or label + "s"),
            custom=True,
            fields={f.name: f for f in ordered},
            tooling_id=tooling_id,
            metadata=dict(metadata),
        )
        definition.layout = default_layout(definition)
        self.add(definition)
        return definition

    def add_custom_field(self, full_name: str, metadata: dict[str, Any], tooling_id: str):
        object_name, _, field_name = (full_name or "").partition(".")
        definition = self.get(object_name)
        if definition is None:
            raise SchemaError("INVALID_TYPE", f"sObject type '{object_name}' is not supported.")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*__c", field_name) or "___" in field_name:
            raise SchemaError(
                "FIELD_INTEGRITY_EXCEPTION",
                f"Invalid FullName {full_name!r}: custom field names end in __c",
            )
        if definition.field(field_name):
            raise SchemaError(
                "DUPLICATE_DEVELOPER_NAME",
                f"There is already a field named {field_name} on {definition.name}.",
            )
        field_def = field_from_metadata(field_name, metadata, self)
        field_def.tooling_id = tooling_id
        field_def.metadata = dict(metadata)
        definition.add_field(field_def)
        return definition, field_def


def _child_relationship_name(child: ObjectDef, definition: FieldDef) -> str:
    if definition.custom:
        child_name = (definition.metadata or {}).get("relationshipName")
        base = str(child_name or child.label_plural.replace(" ", "_"))
        return base + "__r"
    return child.label_plural.replace(" ", "")


def field_from_metadata(name: str, metadata: dict[str, Any], schema: Schema) -> FieldDef:
    """A FieldDef from Tooling/Metadata API ``CustomField`` metadata."""
    raw_type = str(metadata.get("type") or "")
    field_type = CUSTOM_FIELD_TYPES.get(raw_type.lower())
    if field_type is None:
        raise SchemaError(
            "FIELD_INTEGRITY_EXCEPTION", f"Unsupported or missing field type: {raw_type!r}"
        )
    label = str(metadata.get("label") or label_from_name(name))
    required = bool(metadata.get("required"))
    kwargs: dict[str, Any] = {
        "label": label,
        "custom": True,
        "nillable": not required,
        "unique": bool(metadata.get("unique")),
        "external_id": bool(metadata.get("externalId")),
        "case_sensitive": bool(metadata.get("caseSensitive")),
    }
    if field_type in {"string", "textarea"}:
        default_length = 255 if field_type == "string" else 32768
        kwargs["length"] = _int(metadata.get("length"), default_length)
        if field_type == "string" and not 1 <= kwargs["length"] <= 255:
            raise SchemaError("FIELD_INTEGRITY_EXCEPTION", "Text length must be 1 to 255")
    elif field_type == "email":
        kwargs["length"] = 80
    elif field_type == "phone":
        kwargs["length"] = 40
    elif field_type == "url":
        kwargs["length"] = 255
    elif field_type in {"double", "currency", "percent"}:
        kwargs["precision"] = _int(metadata.get("precision"), 18)
        kwargs["scale"] = _int(metadata.get("scale"), 0)
    elif field_type == "boolean":
        kwargs["default"] = str(metadata.get("defaultValue", "false")).lower() == "true"
    elif field_type in {"picklist", "multipicklist"}:
        values, default, restricted = _picklist_from_metadata(metadata)
        kwargs.update(picklist=values, default=default, restricted=restricted, length=255)
        if field_type == "multipicklist":
            kwargs["length"] = 4099
    elif field_type == "reference":
        target = schema.get(str(metadata.get("referenceTo") or ""))
        if target is None:
            raise SchemaError("FIELD_INTEGRITY_EXCEPTION", "Lookup needs a valid referenceTo")
        kwargs.update(length=18, reference_to=[target.name], relationship_name=name[:-3] + "__r")
    if kwargs.get("external_id") and field_type not in {"string", "email", "double"}:
        raise SchemaError(
            "FIELD_INTEGRITY_EXCEPTION", "Only Text, Number and Email fields can be External IDs"
        )
    if field_type in {"string", "email"} and (kwargs["external_id"] or kwargs["unique"]):
        kwargs["id_lookup"] = True
    return FieldDef(name, field_type, **kwargs)


def _picklist_from_metadata(metadata: dict[str, Any]) -> tuple[list[str], str | None, bool]:
    value_set = metadata.get("valueSet") or {}
    definition = value_set.get("valueSetDefinition") or {}
    entries = definition.get("value") or (metadata.get("picklist") or {}).get("picklistValues")
    values: list[str] = []
    default = None
    for entry in entries or []:
        if isinstance(entry, str):
            values.append(entry)
            continue
        value = str(entry.get("fullName") or entry.get("valueName") or entry.get("label"))
        values.append(value)
        if entry.get("default"):
            default = value
    return values, default, bool(value_set.get("restricted"))


def _int(value: Any, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except (TypeError, ValueError):
        return default
