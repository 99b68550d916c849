"""The console shell: login, dashboard, navigation, 404 inside the layout."""

from __future__ import annotations

import pytest
from django.test import override_settings

from conftest import PASSWORD


@pytest.mark.django_db
def test_wrong_password_shows_the_login_forms_error(client, admin_user):
    response = client.post(
        "/accounts/login/", {"username": admin_user.username, "password": "wrong"}
    )
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


@pytest.mark.django_db
def test_login_leads_to_dashboard(client, admin_user):
    response = client.post(
        "/accounts/login/", {"username": admin_user.username, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert b"Dashboard" in response.content


@pytest.mark.django_db
def test_dashboard_says_not_connected_and_what_to_do(admin_client):
    body = admin_client.get("/").content.decode()
    assert 'data-testid="cm-status"' in body
    assert body.count("Not connected") == 2
    assert "Next step: connect your Campaign Monitor account" in body
    assert "Not set up" in body


@pytest.mark.django_db
def test_layout_shows_user_role_logout_and_bell(admin_client, admin_user):
    body = admin_client.get("/").content.decode()
    assert admin_user.username in body
    assert "Admin" in body
    assert 'action="/accounts/logout/"' in body
    assert 'data-testid="bell"' in body


@pytest.mark.django_db
def test_navigation_lists_only_screens_that_exist(admin_client):
    from django.urls import reverse

    from cmsync.context_processors import NAVIGATION

    body = admin_client.get("/").content.decode()
    for label, name in NAVIGATION:
        try:
            url = reverse(name)
        except Exception:
            assert f">{label}</a>" not in body
        else:
            assert f'href="{url}"' in body
            assert admin_client.get(url).status_code == 200


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_unknown_url_is_a_404_inside_the_layout(admin_client):
    response = admin_client.get("/no/such/page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body
    assert "/no/such/page/" in body
    assert 'class="sidebar"' in body
    assert "Traceback" not in body


@pytest.mark.django_db
def test_static_assets_are_local(admin_client):
    body = admin_client.get("/").content.decode()
    assert "/static/css/console.css" in body
    assert "http://" not in body.replace("http://testserver", "")
    assert "https://" not in body


@pytest.mark.django_db
def test_dashboard_warns_when_triggers_are_disabled(admin_client):
    from sync.models import Connection, SyncOptions

    connection = Connection.objects.create()
    assert b"triggers-disabled" not in admin_client.get("/").content
    SyncOptions.objects.create(connection=connection, disable_triggers=True)
    body = admin_client.get("/").content.decode()
    assert "Salesforce → Campaign Monitor sync is stopped" in body
