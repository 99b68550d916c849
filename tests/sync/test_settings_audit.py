"""Every change on the Sync Settings screen writes an audit entry (who, when, before → after)."""

from __future__ import annotations

import pytest

from maintenance.models import AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)


def test_frequency_and_on_off_changes_are_audited(connection, admin_client, admin_user):
    admin_client.post("/sync/settings/frequency/", {"frequency": "240"})
    admin_client.post("/sync/settings/turn-off/")
    entries = list(AuditEntry.objects.order_by("pk"))
    assert [(e.setting, e.before, e.after) for e in entries] == [
        ("Import frequency", "Hourly (recommended)", "Every 4 hours"),
        ("Sync", "on", "off"),
    ]
    assert all(e.user == admin_user and e.area == "Sync Settings" for e in entries)


def test_saving_the_same_value_writes_no_entry(connection, admin_client):
    admin_client.post("/sync/settings/frequency/", {"frequency": "60"})
    assert not AuditEntry.objects.exists()
