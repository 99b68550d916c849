"""The sandbox org's records: validation with Salesforce's error codes, unique and external-id
indexes, the object-specific rules (permission sets here; Campaign, CampaignMember and
CampaignMemberStatus in ``sandbox.sf.campaigns``, called from every write), savepoints for
all-or-none writes, and write-through to the optional SQLite file.

Records are plain dicts keyed by canonical field names holding JSON values (dates and datetimes
are Salesforce-formatted strings: ``2024-05-01`` and ``2024-05-01T10:00:00.000+0000``). Every
record carries every field of its object; soft-deleted records stay in the table with
``IsDeleted`` true (queryAll sees them) until a hard delete.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .campaigns import CampaignRules
from .errors import SfError
from .ids import IdGenerator, normalize_id
from .schema import SYSTEM_FIELDS, FieldDef, ObjectDef, Schema

EMAIL_PATTERN = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Reference fields indexed so cascades and lookups by parent stay cheap.
PARENT_INDEXED = {
    ("Campaign", "ParentId"),
    ("Contact", "AccountId"),
    ("CampaignMember", "CampaignId"),
    ("CampaignMember", "ContactId"),
    ("CampaignMember", "LeadId"),
    ("CampaignMemberStatus", "CampaignId"),
    ("PermissionSetAssignment", "AssigneeId"),
    ("PermissionSetAssignment", "PermissionSetId"),
}

# (object, fields, message) — one live record per combination.
COMPOSITE_UNIQUE = [
    ("CampaignMember", ("CampaignId", "ContactId"), "Already a campaign member."),
    ("CampaignMember", ("CampaignId", "LeadId"), "Already a campaign member."),
    (
        "CampaignMemberStatus",
        ("CampaignId", "Label"),
        "duplicate value found: Label duplicates value on record with id: {other}",
    ),
    (
        "CampaignMemberStatus",
        ("CampaignId", "SortOrder"),
        "duplicate value found: SortOrder duplicates value on record with id: {other}",
    ),
    ("ObjectPermissions", ("ParentId", "SobjectType"), "duplicate value found: SobjectType"),
    ("FieldPermissions", ("ParentId", "Field"), "duplicate value found: Field"),
    (
        "PermissionSetAssignment",
        ("AssigneeId", "PermissionSetId"),
        "Duplicate PermissionSetAssignment. Assignee: {AssigneeId}; Permission Set: "
        "{PermissionSetId}",
    ),
]

# Children deleted with their parent, as Salesforce does (the children's own delete rules do not
# apply: a campaign's default member status goes with the campaign).
CASCADES = {
    "Account": [("Contact", "AccountId")],
    "Campaign": [("CampaignMember", "CampaignId"), ("CampaignMemberStatus", "CampaignId")],
    "Contact": [("CampaignMember", "ContactId")],
    "Lead": [("CampaignMember", "LeadId")],
    "PermissionSet": [("PermissionSetAssignment", "PermissionSetId")],
}


def sf_datetime(moment: dt.datetime) -> str:
    moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def parse_datetime(text: str) -> dt.datetime | None:
    value = text.strip()
    if DATE_PATTERN.match(value):
        value += "T00:00:00Z"
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    value = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", value)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


@dataclass
class ObjectPlan:
    """What writes to one object need, computed once per schema shape (writes are hot)."""

    template: dict[str, Any]
    required: list[str]
    unique: list[FieldDef]
    indexed: list[FieldDef]
    composites: list[tuple[tuple[str, ...], str]]
    createable: frozenset[str]
    updateable: frozenset[str]


def _plan(definition: ObjectDef) -> ObjectPlan:
    fields = list(definition.fields.values())
    return ObjectPlan(
        template={
            f.name: (False if f.type == "boolean" and f.default is None else f.default)
            for f in fields
        },
        required=[f.name for f in fields if f.required],
        unique=[f for f in fields if f.unique],
        indexed=[
            f
            for f in fields
            if f.unique or f.external_id or (definition.name, f.name) in PARENT_INDEXED
        ],
        composites=[(keys, msg) for name, keys, msg in COMPOSITE_UNIQUE if name == definition.name],
        createable=frozenset(f.name for f in fields if f.createable),
        updateable=frozenset(f.name for f in fields if f.updateable),
    )


class Store:
    """Thread-safe record storage for one org. Hold ``lock`` (re-entrant) across a logical write."""

    @property
    def user_id(self) -> str:
        """The acting user of this thread's request (CreatedById / LastModifiedById / OwnerId)."""
        return getattr(self._acting, "user_id", "") or self.default_user_id

    @user_id.setter
    def user_id(self, value: str) -> None:
        self.default_user_id = value

    def act_as(self, user_id: str | None) -> None:
        """Attribute this thread's writes to ``user_id`` (the token's user) until changed."""
        self._acting.user_id = user_id or ""

    def __init__(self, schema: Schema, ids: IdGenerator | None = None) -> None:
        self.schema = schema
        self.ids = ids or IdGenerator()
        self.lock = threading.RLock()
        self.tables: dict[str, dict[str, dict[str, Any]]] = {}
        self._indexes: dict[tuple[str, str], dict[Any, set[str]]] = {}
        self._composite: dict[tuple[str, tuple[str, ...]], dict[tuple, set[str]]] = {}
        self._undo: list[tuple[str, str, dict[str, Any] | None]] | None = None
        self._dirty: dict[str, str] = {}  # record id -> object name
        self.on_commit: Callable[[dict[str, str]], None] | None = None
        self.default_user_id = ""  # the org's admin; acting user when a request names none
        self._acting = threading.local()
        self.now: Callable[[], dt.datetime] = utcnow
        self._plans: dict[str, tuple[int, ObjectPlan]] = {}
        self._stamp_second = -1
        self._stamp_prefix = ""
        self.campaigns = CampaignRules(self)

    def plan(self, definition: ObjectDef) -> ObjectPlan:
        cached = self._plans.get(definition.name)
        if cached is None or cached[0] != len(definition.fields):
            cached = (len(definition.fields), _plan(definition))
            self._plans[definition.name] = cached
        return cached[1]

    def stamp(self) -> str:
        """The current time as a Salesforce datetime string (cheap: formats once a second)."""
        if self.now is not utcnow:
            return sf_datetime(self.now())
        moment = time.time()
        second = int(moment)
        if second != self._stamp_second:
            self._stamp_second = second
            self._stamp_prefix = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second))
        return f"{self._stamp_prefix}{int((moment - second) * 1000):03d}+0000"

    # Transactions ----------------------------------------------------------------------------
    @contextmanager
    def atomic(self) -> Iterator[None]:
        """A transaction: rolled back on exception; nested calls join the outer one."""
        with self.lock:
            outer = self._undo is None
            if outer:
                self._undo = []
            savepoint = len(self._undo)
            try:
                yield
            except BaseException:
                self.rollback_to(savepoint)
                if outer:
                    self._undo = None
                raise
            if outer:
                self._undo = None
                self._commit()

    def savepoint(self) -> int:
        assert self._undo is not None, "savepoint() needs an open atomic() block"
        return len(self._undo)

    def rollback_to(self, savepoint: int) -> None:
        assert self._undo is not None
        while len(self._undo) > savepoint:
            sobject, record_id, previous = self._undo.pop()
            self._raw_put(sobject, record_id, previous)

    def _commit(self) -> None:
        if self._dirty and self.on_commit is not None:
            dirty, self._dirty = self._dirty, {}
            self.on_commit(dirty)
        else:
            self._dirty = {}

    # Low-level storage -----------------------------------------------------------------------
    def table(self, sobject: str) -> dict[str, dict[str, Any]]:
        return self.tables.setdefault(sobject, {})

    def _put(self, sobject: str, record: dict[str, Any]) -> None:
        record_id = record["Id"]
        previous = self.table(sobject).get(record_id)
        if self._undo is not None:
            self._undo.append((sobject, record_id, previous))
        self._raw_put(sobject, record_id, record)

    def _remove(self, sobject: str, record_id: str) -> None:
        previous = self.table(sobject).get(record_id)
        if previous is None:
            return
        if self._undo is not None:
            self._undo.append((sobject, record_id, previous))
        self._raw_put(sobject, record_id, None)

    def _raw_put(self, sobject: str, record_id: str, record: dict[str, Any] | None) -> None:
        table = self.table(sobject)
        previous = table.get(record_id)
        if previous is not None:
            self._unindex(sobject, previous)
        if record is None:
            table.pop(record_id, None)
        else:
            table[record_id] = record
            self._index(sobject, record)
        self._dirty[record_id] = sobject

    def load(self, sobject: str, record: dict[str, Any]) -> None:
        """Put a record as-is (restoring persisted state); fills fields added since."""
        definition = self.schema.get(sobject)
        if definition is None:
            return
        full = self._template(definition)
        full.update({k: v for k, v in record.items() if k in definition.fields})
        table = self.table(definition.name)
        table[full["Id"]] = full
        self._index(definition.name, full)
        self.campaigns.loaded(definition.name, full)

    # Indexes ---------------------------------------------------------------------------------
    def _indexed_fields(self, definition: ObjectDef) -> list[FieldDef]:
        return self.plan(definition).indexed

    @staticmethod
    def index_key(field_def: FieldDef, value: Any) -> Any:
        if (
            isinstance(value, str)
            and not field_def.case_sensitive
            and field_def.type != "reference"
        ):
            return value.lower()
        return value

    def _index(self, sobject: str, record: dict[str, Any]) -> None:
        if record.get("IsDeleted"):
            return
        definition = self.schema.objects[sobject]
        record_id = record["Id"]
        for field_def in self._indexed_fields(definition):
            value = record.get(field_def.name)
            if value is None or value == "":
                continue
            index = self._indexes.setdefault((sobject, field_def.name), {})
            index.setdefault(self.index_key(field_def, value), set()).add(record_id)
        for fields, _message in self.plan(definition).composites:
            key = self._composite_key(record, fields)
            if key is not None:
                index = self._composite.setdefault((sobject, fields), {})
                index.setdefault(key, set()).add(record_id)

    def _unindex(self, sobject: str, record: dict[str, Any]) -> None:
        if record.get("IsDeleted"):
            return
        definition = self.schema.objects[sobject]
        record_id = record["Id"]
        for field_def in self._indexed_fields(definition):
            value = record.get(field_def.name)
            if value is None or value == "":
                continue
            index = self._indexes.get((sobject, field_def.name), {})
            ids = index.get(self.index_key(field_def, value))
            if ids is not None:
                ids.discard(record_id)
                if not ids:
                    del index[self.index_key(field_def, value)]
        for fields, _message in self.plan(definition).composites:
            key = self._composite_key(record, fields)
            ids = self._composite.get((sobject, fields), {}).get(key)
            if ids is not None:
                ids.discard(record_id)

    @staticmethod
    def _composite_key(record: dict[str, Any], fields: tuple[str, ...]) -> tuple | None:
        values = tuple(
            v.lower() if isinstance(v, str) else v for v in (record.get(f) for f in fields)
        )
        return None if any(v is None for v in values) else values

    def reindex(self, sobject: str) -> None:
        """Rebuild one object's indexes (after a field became unique / external id)."""
        for key in [k for k in self._indexes if k[0] == sobject]:
            del self._indexes[key]
        for key in [k for k in self._composite if k[0] == sobject]:
            del self._composite[key]
        for record in self.table(sobject).values():
            self._index(sobject, record)

    def find_by(self, sobject: str, field_def: FieldDef, value: Any) -> list[str]:
        """Ids of live records whose indexed ``field_def`` equals ``value``."""
        index = self._indexes.get((sobject, field_def.name), {})
        return sorted(index.get(self.index_key(field_def, value), ()))

    # Reads -----------------------------------------------------------------------------------
    def get(self, sobject: str, record_id: str, include_deleted: bool = False):
        record = self.table(sobject).get(record_id)
        if record is None or (record["IsDeleted"] and not include_deleted):
            return None
        return record

    def object_of_id(self, record_id: str) -> ObjectDef | None:
        canonical = normalize_id(record_id)
        return self.schema.by_prefix(canonical[:3]) if canonical else None

    def lookup(self, record_id: str) -> dict[str, Any] | None:
        """The live record with this id, whatever its object."""
        canonical = normalize_id(record_id)
        definition = self.schema.by_prefix(canonical[:3]) if canonical else None
        if definition is None:
            return None
        return self.get(definition.name, canonical)

    def rows(self, sobject: str, include_deleted: bool = False) -> list[dict[str, Any]]:
        table = self.table(sobject)
        if include_deleted:
            return list(table.values())
        return [r for r in table.values() if not r["IsDeleted"]]

    def count(self, sobject: str | None = None) -> int:
        names = [sobject] if sobject else list(self.tables)
        return sum(sum(1 for r in self.table(n).values() if not r["IsDeleted"]) for n in names)

    # Input parsing ---------------------------------------------------------------------------
    def parse_input(
        self, definition: ObjectDef, raw: Any, *, csv_source: bool = False
    ) -> dict[str, Any]:
        """Map caller field names to canonical ones and coerce values to stored form.

        For CSV (Bulk API) an empty cell means "leave as is" and ``#N/A`` means null.
        """
        if not isinstance(raw, dict):
            raise SfError(
                "JSON_PARSER_ERROR",
                "Cannot deserialize instance of sObject from non-object value",
                request_level=True,
            )
        values: dict[str, Any] = {}
        for name, value in raw.items():
            if name == "attributes":
                continue
            field_def = definition.field(name)
            if field_def is None:
                raise SfError(
                    "INVALID_FIELD",
                    f"No such column '{name}' on sobject of type {definition.name}",
                    request_level=not csv_source,
                )
            if csv_source:
                if value == "":
                    continue
                if value == "#N/A":
                    value = None
            values[field_def.name] = self.coerce(field_def, value, csv_source)
        return values

    def coerce(self, field_def: FieldDef, value: Any, csv_source: bool = False) -> Any:
        if value is None:
            return None
        kind = field_def.type
        try:
            if kind == "boolean":
                return _to_bool(value)
            if kind == "int":
                return _to_int(value)
            if kind in {"double", "currency", "percent"}:
                if isinstance(value, bool):
                    raise ValueError
                return float(value)
            if kind == "date":
                return _to_date(value)
            if kind == "datetime":
                return _to_datetime(value)
            if kind in {"reference", "id"}:
                if not isinstance(value, str):
                    raise ValueError
                return value
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise ValueError
            return value if isinstance(value, str) else str(value)
        except (TypeError, ValueError):
            if csv_source:
                raise SfError(
                    "INVALID_TYPE_ON_FIELD_IN_RECORD",
                    f"{field_def.label}: value not of required type: {value}",
                    [field_def.name],
                ) from None
            raise SfError(
                "JSON_PARSER_ERROR",
                f"Cannot deserialize instance of {kind} from VALUE_STRING value {value} or "
                "request may be missing a required field",
                request_level=True,
            ) from None

    # Validation ------------------------------------------------------------------------------
    def _check_writable(self, definition: ObjectDef, values: dict[str, Any], creating: bool):
        plan = self.plan(definition)
        allowed = plan.createable if creating else plan.updateable
        denied = [name for name in values if name not in allowed]
        if denied:
            verb = "create" if creating else "update"
            raise SfError(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to {verb}/update fields: {', '.join(denied)}. Please check the security "
                "settings of this field and verify that it is read/write for your profile or "
                "permission set.",
                denied,
            )

    def _check_values(self, definition: ObjectDef, values: dict[str, Any]) -> None:
        for name, value in values.items():
            if value is None:
                continue
            field_def = definition.fields[name]
            kind = field_def.type
            if isinstance(value, str) and field_def.length and len(value) > field_def.length:
                shown = value if len(value) <= 40 else value[:40] + "..."
                raise SfError(
                    "STRING_TOO_LONG",
                    f"{field_def.label}: data value too large: {shown} "
                    f"(max length={field_def.length})",
                    [name],
                )
            if kind == "email" and not EMAIL_PATTERN.match(value):
                raise SfError(
                    "INVALID_EMAIL_ADDRESS",
                    f"{field_def.label}: invalid email address: {value}",
                    [name],
                )
            if kind == "picklist" and field_def.restricted and value not in field_def.picklist:
                raise SfError(
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    f"{field_def.label}: bad value for restricted picklist field: {value}",
                    [name],
                )
            if kind == "reference":
                values[name] = self._check_reference(field_def, value)

    def _check_reference(self, field_def: FieldDef, value: str) -> str:
        canonical = normalize_id(value)
        if canonical is None:
            raise SfError(
                "MALFORMED_ID",
                f"{field_def.label}: id value of incorrect type: {value}",
                [field_def.name],
            )
        target = self.schema.by_prefix(canonical[:3])
        if target is None or target.name not in field_def.reference_to:
            raise SfError(
                "FIELD_INTEGRITY_EXCEPTION",
                f"{field_def.label}: id value of incorrect type: {value}",
                [field_def.name],
            )
        record = self.get(target.name, canonical, include_deleted=True)
        if record is None:
            raise SfError(
                "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [field_def.name]
            )
        if record["IsDeleted"]:
            raise SfError("ENTITY_IS_DELETED", "entity is deleted", [field_def.name])
        return canonical

    def _check_required(self, definition: ObjectDef, record: dict[str, Any]) -> None:
        missing = [
            name
            for name in self.plan(definition).required
            if record.get(name) is None or record.get(name) == ""
        ]
        if missing:
            raise SfError(
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                missing,
            )

    def _check_unique(self, definition: ObjectDef, record: dict[str, Any]) -> None:
        record_id = record["Id"]
        plan = self.plan(definition)
        for field_def in plan.unique:
            value = record.get(field_def.name)
            if value is None or value == "":
                continue
            index = self._indexes.get((definition.name, field_def.name), {})
            others = index.get(self.index_key(field_def, value), ())
            if others and (len(others) > 1 or record_id not in others):
                other = min(i for i in others if i != record_id)
                raise SfError(
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {field_def.name} duplicates value on record with "
                    f"id: {other}",
                )
        for fields, message in plan.composites:
            key = self._composite_key(record, fields)
            if key is None:
                continue
            others = self._composite.get((definition.name, fields), {}).get(key, set())
            if others and (len(others) > 1 or record_id not in others):
                other = min(i for i in others if i != record_id)
                raise SfError("DUPLICATE_VALUE", message.format(**record, other=other))

    def _template(self, definition: ObjectDef) -> dict[str, Any]:
        return dict(self.plan(definition).template)

    # Writes ----------------------------------------------------------------------------------
    def create(self, definition: ObjectDef, values: dict[str, Any]) -> dict[str, Any]:
        """Insert one record from parsed values; returns the stored record."""
        if not definition.createable:
            raise SfError(
                "INSUFFICIENT_ACCESS_OR_READONLY",
                f"You do not have access to create {definition.name} records",
            )
        self._check_writable(definition, values, creating=True)
        self._check_values(definition, values)
        with self.atomic():
            record = self._template(definition)
            record.update(values)
            stamp = self.stamp()
            record.update(
                Id=self.ids.new(definition.key_prefix),
                IsDeleted=False,
                CreatedDate=stamp,
                LastModifiedDate=stamp,
                SystemModstamp=stamp,
                CreatedById=self.user_id or None,
                LastModifiedById=self.user_id or None,
            )
            if "OwnerId" in definition.fields and not record.get("OwnerId"):
                record["OwnerId"] = self.user_id or None
            if definition.name == "User" and record.get("Id") and not self.user_id:
                record["CreatedById"] = record["LastModifiedById"] = record["Id"]
            self._derive(definition, record, None)
            self._check_required(definition, record)
            self._check_unique(definition, record)
            self._put(definition.name, record)
            self._after_write(definition, record, None)
        return record

    def update(
        self, definition: ObjectDef, record_id: str, values: dict[str, Any]
    ) -> dict[str, Any]:
        current = self.get(definition.name, record_id, include_deleted=True)
        if current is None:
            raise SfError("NOT_FOUND", "The requested resource does not exist", status=404)
        if current["IsDeleted"]:
            raise SfError("ENTITY_IS_DELETED", "entity is deleted", status=404)
        if not definition.updateable:
            raise SfError(
                "INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id"
            )
        if definition.name == "Lead" and current.get("IsConverted"):
            raise SfError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
        self._check_writable(definition, values, creating=False)
        self._check_values(definition, values)
        with self.atomic():
            record = dict(current)
            record.update(values)
            stamp = self.stamp()
            record.update(
                LastModifiedDate=stamp,
                SystemModstamp=stamp,
                LastModifiedById=self.user_id or current["LastModifiedById"],
            )
            self._derive(definition, record, current)
            self._check_required(definition, record)
            self._check_unique(definition, record)
            self._put(definition.name, record)
            self._after_write(definition, record, current)
        return record

    def upsert(
        self, definition: ObjectDef, field_def: FieldDef, value: Any, values: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        """Update the one record whose external id matches, or create one. (record, created)."""
        if field_def.name == "Id":
            canonical = normalize_id(value) if value else None
            if not value:
                return self.create(definition, values), True
            if canonical is None or self.get(definition.name, canonical) is None:
                raise SfError(
                    "NOT_FOUND",
                    f"Provided external ID field does not exist or is not accessible: {value}",
                    status=404,
                )
            values.pop("Id", None)
            return self.update(definition, canonical, values), False
        matches = self.find_by(definition.name, field_def, value)
        if len(matches) > 1:
            raise SfError(
                "DUPLICATE_EXTERNAL_ID",
                f"The external ID field {field_def.name} matched more than one record: "
                f"{', '.join(matches)}",
                [field_def.name],
                status=300,
            )
        values = dict(values)
        existing = values.get(field_def.name)
        if existing is not None and self.index_key(field_def, existing) != self.index_key(
            field_def, value
        ):
            raise SfError(
                "INVALID_FIELD",
                f"The value of {field_def.name} in the body does not match the external id "
                "in the URL",
                [field_def.name],
            )
        if matches:
            values.pop(field_def.name, None)
            return self.update(definition, matches[0], values), False
        values[field_def.name] = value
        return self.create(definition, values), True

    def delete(
        self, definition: ObjectDef, record_id: str, hard: bool = False, cascaded: bool = False
    ) -> None:
        """Delete a record and its cascade children; ``cascaded`` is the cascade's own call."""
        current = self.get(definition.name, record_id, include_deleted=True)
        if current is None:
            raise SfError("NOT_FOUND", "The requested resource does not exist", status=404)
        if current["IsDeleted"] and not hard:
            raise SfError("ENTITY_IS_DELETED", "entity is deleted", status=404)
        if not definition.deletable:
            raise SfError(
                "INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id"
            )
        with self.atomic():
            self.campaigns.before_delete(definition, current, cascaded)
            for child, fk in CASCADES.get(definition.name, []):
                child_def = self.schema.objects[child]
                for child_id in self.find_by(child, child_def.fields[fk], record_id):
                    self.delete(child_def, child_id, hard=hard, cascaded=True)
            if hard:
                self._remove(definition.name, record_id)
            else:
                record = dict(current)
                stamp = self.stamp()
                record.update(IsDeleted=True, SystemModstamp=stamp, LastModifiedDate=stamp)
                self._put(definition.name, record)
            self.campaigns.after_delete(definition, current)

    def convert_lead(
        self,
        lead_id: str,
        *,
        contact_id: str | None = None,
        account_id: str | None = None,
        converted_status: str = "Closed - Converted",
    ) -> dict[str, str]:
        """Salesforce's ``convertLead``: the Lead becomes a Contact (and Account), read-only.

        Without ``account_id`` an Account named after the Lead's Company is created; without
        ``contact_id`` a Contact is created from the Lead's person fields (same owner). The Lead
        gets ``IsConverted``, ``ConvertedDate`` (today), ``ConvertedContactId``,
        ``ConvertedAccountId`` and the converted status, which is an update like any other
        (``LastModifiedDate`` and ``SystemModstamp`` move). Returns the LeadConvertResult ids.
        Campaign memberships of the Lead are left as they are.
        """
        schema = self.schema.objects
        canonical = normalize_id(lead_id) or lead_id
        with self.atomic():
            lead = self.get("Lead", canonical)
            if lead is None:
                raise SfError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
            if lead["IsConverted"]:
                raise SfError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
            if converted_status not in (schema["Lead"].fields["Status"].picklist or []):
                raise SfError(
                    "INVALID_STATUS", f"invalid convertedStatus: {converted_status}", ["Status"]
                )
            if account_id is None:
                account = self.create(schema["Account"], {"Name": lead.get("Company") or "—"})
                account_id = account["Id"]
            if contact_id is None:
                values = {
                    key: lead.get(key)
                    for key in (
                        "Salutation",
                        "FirstName",
                        "LastName",
                        "Title",
                        "Email",
                        "Phone",
                        "MobilePhone",
                        "HasOptedOutOfEmail",
                        "DoNotCall",
                        "LeadSource",
                        "Description",
                        "OwnerId",
                    )
                    if lead.get(key) is not None
                }
                mailing = {
                    "MailingStreet": lead.get("Street"),
                    "MailingCity": lead.get("City"),
                    "MailingState": lead.get("State"),
                    "MailingPostalCode": lead.get("PostalCode"),
                    "MailingCountry": lead.get("Country"),
                }
                values.update({k: v for k, v in mailing.items() if v is not None})
                contact = self.create(schema["Contact"], {**values, "AccountId": account_id})
                contact_id = contact["Id"]
            elif self.get("Contact", normalize_id(contact_id) or contact_id) is None:
                raise SfError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
            stamp = self.stamp()
            converted = dict(lead)
            converted.update(
                IsConverted=True,
                ConvertedDate=self.now().date().isoformat(),
                ConvertedContactId=normalize_id(contact_id) or contact_id,
                ConvertedAccountId=normalize_id(account_id) or account_id,
                Status=converted_status,
                LastModifiedDate=stamp,
                SystemModstamp=stamp,
                LastModifiedById=self.user_id or lead["LastModifiedById"],
            )
            self._put("Lead", converted)
            self.campaigns.lead_converted(converted["Id"])
        return {
            "leadId": converted["Id"],
            "contactId": converted["ConvertedContactId"],
            "accountId": converted["ConvertedAccountId"],
        }

    # Object rules ----------------------------------------------------------------------------
    def _derive(
        self, definition: ObjectDef, record: dict[str, Any], previous: dict[str, Any] | None
    ) -> None:
        """Calculated and copied fields (Name, campaign rules in sandbox.sf.campaigns)."""
        name = definition.name
        if name in {"Contact", "Lead", "User"}:
            parts = [record.get("FirstName"), record.get("LastName")]
            record["Name"] = " ".join(p for p in parts if p) or None
        self.campaigns.derive(definition, record, previous)
        if previous is None and definition.custom:
            self._auto_number(definition, record)
        if previous is None and name in {"ObjectPermissions", "FieldPermissions"}:
            self._check_permission_target(name, record)
        if name in {"ObjectPermissions", "FieldPermissions"}:
            self._check_permission_flags(record)

    def _check_permission_target(self, name: str, record: dict[str, Any]) -> None:
        """SobjectType / Field are restricted picklists of the org's objects and fields."""
        target = self.schema.get(str(record.get("SobjectType") or ""))
        if target is None:
            raise SfError(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"SObject Type Name: bad value for restricted picklist field: "
                f"{record.get('SobjectType')}",
                ["SobjectType"],
            )
        record["SobjectType"] = target.name
        if name != "FieldPermissions":
            return
        object_name, _, field_name = str(record.get("Field") or "").partition(".")
        field_def = target.field(field_name) if object_name.lower() == target.name.lower() else None
        if field_def is None:
            raise SfError(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"Field Name: bad value for restricted picklist field: {record.get('Field')}",
                ["Field"],
            )
        if field_def.required or field_def.name in SYSTEM_FIELDS or field_def.name_field:
            raise SfError(
                "FIELD_INTEGRITY_EXCEPTION",
                f"Field Name: {target.name}.{field_def.name} is not permissionable",
                ["Field"],
            )
        record["Field"] = f"{target.name}.{field_def.name}"

    @staticmethod
    def _check_permission_flags(record: dict[str, Any]) -> None:
        granted = [k for k, v in record.items() if k.startswith("Permissions") and v]
        if granted and not record.get("PermissionsRead"):
            raise SfError(
                "FIELD_INTEGRITY_EXCEPTION",
                f"Permission {granted[0][len('Permissions') :]} depends on permission(s): Read",
                ["PermissionsRead"],
            )

    def _auto_number(self, definition: ObjectDef, record: dict[str, Any]) -> None:
        """AutoNumber name fields: ``displayFormat`` such as ``SUB-{0000}`` (default ``{0}``)."""
        name_field = definition.fields.get("Name")
        if name_field is None or not name_field.auto_number:
            return
        name_meta = (definition.metadata or {}).get("nameField") or {}
        display = (
            str(name_meta.get("displayFormat") or "{0}") if isinstance(name_meta, dict) else "{0}"
        )
        number = len(self.table(definition.name)) + 1
        record["Name"] = re.sub(r"\{(0+)\}", lambda m: str(number).zfill(len(m.group(1))), display)

    def _after_write(
        self, definition: ObjectDef, record: dict[str, Any], previous: dict[str, Any] | None
    ) -> None:
        self.campaigns.after_write(definition, record, previous)

    # Schema changes --------------------------------------------------------------------------
    def add_field_to_records(self, definition: ObjectDef, field_def: FieldDef) -> None:
        """Give every stored record of the object the new field's default value."""
        default = field_def.default if field_def.type != "boolean" else bool(field_def.default)
        with self.lock:
            for record in self.table(definition.name).values():
                record.setdefault(field_def.name, default)
            if field_def.unique or field_def.external_id:
                self.reindex(definition.name)


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "1", "yes"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"false", "0", "no", ""}:
        return False
    raise ValueError(value)


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(value)
        return int(value)
    return int(value)


def _to_date(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(value)
    text = value.strip()[:10]
    dt.date.fromisoformat(text)
    if not DATE_PATTERN.match(text):
        raise ValueError(value)
    return text


def _to_datetime(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(value)
    moment = parse_datetime(value)
    if moment is None:
        raise ValueError(value)
    return sf_datetime(moment)


def is_system_field(name: str) -> bool:
    return name in SYSTEM_FIELDS
