"""The audit log page: every settings change (who, when, before → after), filtered by area."""

from __future__ import annotations

import html
import re

import pytest
from django.utils import timezone

from maintenance.models import AuditEntry
from maintenance.services import record_changes
from sync.models import Connection, SyncOptions

pytestmark = pytest.mark.django_db

AUDIT_URL = "/maintenance/audit/"


def text_of(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def rows(text: str) -> list[str]:
    """The audit table's body rows as plain text."""
    body = text.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in text else ""
    return [
        " ".join(re.sub(r"<[^>]+>", " ", row).split())
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_audit_log_lists_who_changed_what_from_before_to_after(admin_client, admin_user):
    record_changes(user=admin_user, area="Storage", changes={"Days to keep": (180, 30)})
    record_changes(user=None, area="General Options", changes={"Disable triggers": (False, True)})

    listed = rows(text_of(admin_client.get(AUDIT_URL)))

    assert len(listed) == 2
    assert listed[0].endswith("system General Options Disable triggers off → on")
    assert listed[1].endswith(f"{admin_user.username} Storage Days to keep 180 → 30")
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", listed[0])


def test_audit_log_filters_by_area(admin_client, admin_user):
    record_changes(user=admin_user, area="Storage", changes={"Days to keep": (180, 30)})
    record_changes(
        user=admin_user, area="General Options", changes={"Account trigger": (False, True)}
    )

    text = text_of(admin_client.get(AUDIT_URL, {"area": "Storage"}))

    assert [row.split(" Storage ")[1] for row in rows(text)] == ["Days to keep 180 → 30"]
    assert '<option value="Storage" selected>' in text
    assert '<option value="General Options">' in text
    empty = text_of(admin_client.get(AUDIT_URL, {"area": "Billing"}))
    assert rows(empty) == [] and "No settings changes in Billing yet" in empty


def test_audit_log_pages_fifty_at_a_time_keeping_the_filter(admin_client):
    AuditEntry.objects.bulk_create(
        AuditEntry(area="Storage", setting=f"setting {i:02d}", before="a", after="b")
        for i in range(51)
    )
    first = text_of(admin_client.get(AUDIT_URL, {"area": "Storage"}))
    assert len(rows(first)) == 50
    assert 'href="?area=Storage&page=2"' in first
    second = text_of(admin_client.get(AUDIT_URL, {"area": "Storage", "page": 2}))
    assert len(rows(second)) == 1


def test_saving_general_options_shows_up_in_the_audit_log(admin_client, admin_user):
    now = timezone.now()
    connection = Connection.objects.create(
        cm_auth_method="api_key",
        cm_api_key="k",
        cm_connected_at=now,
        sf_instance_url="https://example.my.salesforce.com",
        sf_access_token="t",
        sf_connected_at=now,
    )
    SyncOptions.objects.create(connection=connection, trigger_journeys=False)
    admin_client.post("/sync/options/", {"trigger_journeys": "on", "account_trigger": "on"})

    listed = rows(text_of(admin_client.get(AUDIT_URL, {"area": "General Options"})))

    assert len(listed) == 1
    assert listed[0].endswith(
        f"{admin_user.username} General Options "
        "Trigger journeys for subscribers added by cmsync off → on"
    )


def test_support_reads_the_audit_log_but_cannot_post(support_client, admin_user):
    record_changes(user=admin_user, area="Storage", changes={"Days to keep": (180, 30)})
    assert len(rows(text_of(support_client.get(AUDIT_URL)))) == 1
    assert support_client.post(AUDIT_URL, {"area": "Storage"}).status_code == 403
