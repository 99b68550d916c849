"""Optional persistence of the sandbox org in ``<state_dir>/salesforce-sandbox.sqlite3``.

One table holds every record as JSON; a key/value table holds the schema additions (custom
objects and fields, layouts), reports, list views, OAuth tokens, the id counter and API usage.
Records are written through at the end of each committed write; the rest when it changes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox.config import SandboxConfig

from .ids import IdGenerator
from .schema import FieldDef, ObjectDef, field_from_metadata

if TYPE_CHECKING:
    from .app import SalesforceApp

FILE_NAME = "salesforce-sandbox.sqlite3"


class Persistence:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, sobject TEXT, data TEXT)"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")

    @classmethod
    def open(cls, config: SandboxConfig) -> Persistence:
        directory = Path(config.state_dir) if config.state_dir else Path("var/sandbox")
        return cls(directory / FILE_NAME)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # Loading -----------------------------------------------------------------------------------
    def _meta(self, key: str) -> Any:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def restore(self, app: SalesforceApp) -> bool:
        """Load a saved org into ``app``; False when there is nothing saved yet."""
        state = self._meta("org")
        if not state:
            return False
        app.org_id = state["org_id"]
        app.admin_user_id = state["admin_user_id"]
        app.store.ids = IdGenerator(int(state["id_counter"]))
        app.tokens.org_id = app.org_id
        app.usage.used = int(state.get("api_used", 0))
        _restore_schema(app, self._meta("schema") or {})
        app.reports = self._meta("reports") or {}
        app.list_views = self._meta("list_views") or {}
        app.tokens.restore(self._meta("tokens") or {})
        for sobject, data in self._db.execute("SELECT sobject, data FROM records"):
            app.store.load(sobject, json.loads(data))
        app.store.user_id = app.admin_user_id
        return True

    def attach(self, app: SalesforceApp) -> None:
        """Write through from now on, and save the current state once."""
        app.store.on_commit = lambda dirty: self.save_records(app, dirty)
        self.save_records(
            app, {rid: name for name, table in app.store.tables.items() for rid in table}
        )
        self.save_meta(app)

    # Saving ------------------------------------------------------------------------------------
    def save_records(self, app: SalesforceApp, dirty: dict[str, str]) -> None:
        upserts = []
        deletes = []
        for record_id, sobject in dirty.items():
            record = app.store.table(sobject).get(record_id)
            if record is None:
                deletes.append((record_id,))
            else:
                upserts.append((record_id, sobject, json.dumps(record)))
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO records (id, sobject, data) VALUES (?, ?, ?)", upserts
            )
            self._db.executemany("DELETE FROM records WHERE id = ?", deletes)
            self._set("org", _org_state(app))
            self._db.execute("COMMIT")

    def save_meta(self, app: SalesforceApp) -> None:
        # Lock order everywhere: the store's lock, then this file's lock.
        with app.store.lock, self._lock:
            self._db.execute("BEGIN")
            self._set("org", _org_state(app))
            self._set("schema", _schema_state(app))
            self._set("reports", app.reports)
            self._set("list_views", app.list_views)
            self._set("tokens", app.tokens.dump())
            self._db.execute("COMMIT")

    def _set(self, key: str, value: Any) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value))
        )


def _org_state(app: SalesforceApp) -> dict[str, Any]:
    return {
        "org_id": app.org_id,
        "admin_user_id": app.admin_user_id,
        "id_counter": app.store.ids.last,
        "api_used": app.usage.used,
    }


def _schema_state(app: SalesforceApp) -> dict[str, Any]:
    custom_objects = []
    custom_fields = []
    layouts = {}
    for definition in app.schema.objects.values():
        layouts[definition.name] = definition.layout
        if definition.custom:
            custom_objects.append(
                {
                    "name": definition.name,
                    "prefix": definition.key_prefix,
                    "metadata": definition.metadata or {},
                    "tooling_id": definition.tooling_id,
                }
            )
        for field_def in definition.fields.values():
            if field_def.custom and field_def.tooling_id:
                custom_fields.append(
                    {
                        "object": definition.name,
                        "name": field_def.name,
                        "metadata": field_def.metadata or {},
                        "tooling_id": field_def.tooling_id,
                    }
                )
    return {"custom_objects": custom_objects, "custom_fields": custom_fields, "layouts": layouts}


def _restore_schema(app: SalesforceApp, state: dict[str, Any]) -> None:
    schema = app.schema
    for item in state.get("custom_objects", []):
        definition: ObjectDef = schema.add_custom_object(
            item["name"], item["metadata"], item["tooling_id"]
        )
        if definition.key_prefix != item["prefix"]:
            schema._prefixes.pop(definition.key_prefix, None)
            definition.key_prefix = item["prefix"]
            schema._prefixes[item["prefix"]] = definition.name
    for item in state.get("custom_fields", []):
        definition = schema.objects[item["object"]]
        field_def: FieldDef = field_from_metadata(item["name"], item["metadata"], schema)
        field_def.tooling_id = item["tooling_id"]
        field_def.metadata = item["metadata"]
        definition.add_field(field_def)
    for name, layout in (state.get("layouts") or {}).items():
        if name in schema.objects and layout:
            schema.objects[name].layout = layout
