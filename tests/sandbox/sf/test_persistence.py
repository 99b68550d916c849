"""With persistence on, the org (records, schema, layouts, tokens) survives a restart."""

from __future__ import annotations

from simple_salesforce import Salesforce


def test_records_schema_and_tokens_survive_a_restart(make_sf_sandbox, tmp_path):
    state = tmp_path / "persisted"
    first = make_sf_sandbox(seed="demo", persist=True, state_dir=state)
    sf = first.salesforce()
    sf.toolingexecute(
        "sobjects/CustomField",
        method="POST",
        data={
            "FullName": "Contact.CM_Key__c",
            "Metadata": {"label": "CM Key", "type": "Text", "length": 80, "externalId": True},
        },
    )
    sf.toolingexecute(
        "sobjects/CustomObject",
        method="POST",
        data={"FullName": "Sync_Log__c", "Metadata": {"label": "Sync Log"}},
    )
    kept = sf.Contact.create({"LastName": "Kept", "CM_Key__c": "k-1"})["id"]
    gone = sf.Contact.create({"LastName": "Gone"})["id"]
    sf.Contact.delete(gone)
    log_id = sf.Sync_Log__c.create({"Name": "first run"})["id"]
    access, refresh = first.issue_token()
    contacts_before = len(first.app.records("Contact"))
    first.stop()

    second = make_sf_sandbox(seed="demo", persist=True, state_dir=state)

    assert len(second.app.records("Contact")) == contacts_before
    assert second.app.get("Contact", gone)["IsDeleted"] is True
    assert second.app.admin_user_id == first.app.admin_user_id
    again = Salesforce(instance_url=second.url, session_id=access, session=second.session())
    assert again.Contact.get_by_custom_id("CM_Key__c", "k-1")["Id"] == kept
    assert again.Sync_Log__c.get(log_id)["Name"] == "first run"
    new_id = again.Contact.create({"LastName": "After restart"})["id"]
    assert new_id not in {kept, gone}
    with second.session() as session:
        refreshed = session.post(
            f"{second.url}/services/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh,
                "client_id": second.client_id,
                "client_secret": second.client_secret,
            },
            timeout=10,
        )
    assert refreshed.status_code == 200


def test_without_persistence_a_restart_starts_fresh(make_sf_sandbox, tmp_path):
    state = tmp_path / "not-persisted"
    first = make_sf_sandbox(seed="empty", state_dir=state)
    first.salesforce().Contact.create({"LastName": "Lost"})
    first.stop()

    second = make_sf_sandbox(seed="empty", state_dir=state)

    assert second.app.records("Contact") == []
    assert not (state / "salesforce-sandbox.sqlite3").exists()


def test_layout_changes_persist(make_sf_sandbox, tmp_path):
    state = tmp_path / "layouts"
    first = make_sf_sandbox(seed="empty", persist=True, state_dir=state)
    sf = first.salesforce()
    layout_id = sf.toolingexecute("query/?q=SELECT+Id+FROM+Layout+WHERE+TableEnumOrId='Contact'")[
        "records"
    ][0]["Id"]
    metadata = {
        "layoutSections": [
            {
                "label": "Only",
                "layoutColumns": [{"layoutItems": [{"field": "LastName"}, {"field": "Email"}]}],
            }
        ]
    }
    sf.toolingexecute(f"sobjects/Layout/{layout_id}", method="PATCH", data={"Metadata": metadata})
    first.stop()

    second = make_sf_sandbox(seed="empty", persist=True, state_dir=state)

    sections = second.salesforce().Contact.describe_layout("")["layouts"][0]
    assert [s["heading"] for s in sections["detailLayoutSections"]] == ["Only"]
