"""Every page needs a login; Support reads everything and changes nothing; every view of the
console says who may call it with the one decorator, ``cmsync.roles.role_required``."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from cmsync.roles import ACCESS_ATTRIBUTE, Access

# Values for URL parameters so every pattern can be walked.
SAMPLE_ARGS = {
    "int": "1",
    "str": "CMS-100",
    "slug": "x",
    "path": "x",
    "uuid": "00000000-0000-0000-0000-000000000000",
}
PUBLIC = {"login"}
# Framed by Salesforce pages, where the login page cannot be shown: without a session or its
# own cookie the embed asks the person to sign in in a new tab (tests/test_security_headers.py).
EMBED = {"sync-tracking-embed"}
# Django's own sign-in and sign-out views keep Django's rules (the admin is skipped by the walk).
DJANGO_AUTH = {"login", "logout"}


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield entry.name, prefix + str(entry.pattern), entry.callback


def _concrete(route: str) -> str:
    return "/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_ARGS[m.group(1) or "str"], route)


ALL_URLS = sorted(
    {(name, _concrete(route)) for name, route, _ in _walk(get_resolver().url_patterns)}
)
CONSOLE_VIEWS = sorted(
    ((name, view) for name, _route, view in _walk(get_resolver().url_patterns)),
    key=lambda pair: pair[0],
)


def test_there_are_urls_to_walk():
    assert len(ALL_URLS) >= 5


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "url"), ALL_URLS)
def test_anonymous_is_sent_to_login(client, name, url):
    if name in PUBLIC:
        assert client.get(url).status_code == 200
        return
    response = client.get(url)
    if name in EMBED:
        assert response.status_code == 200, url
        assert b"Sign in to cmsync" in response.content
        return
    assert response.status_code == 302, url
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize(
    ("name", "view"), [(name, view) for name, view in CONSOLE_VIEWS if name not in DJANGO_AUTH]
)
def test_every_console_view_carries_the_role_decorator(name, view):
    assert getattr(view, ACCESS_ATTRIBUTE, None) in set(Access), (
        f"{name} ({view.__module__}.{view.__name__}) lacks @role_required"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "url"), [u for u in ALL_URLS if u[0] not in DJANGO_AUTH])
def test_support_may_not_post_anywhere(support_client, name, url):
    response = support_client.post(url, {"anything": "1"})
    assert response.status_code == 403, url
    assert b"may read this console but not change it" in response.content


@pytest.mark.django_db
def test_signed_in_support_posting_to_login_is_only_sent_on(support_client, admin_user):
    """Django's login view sends a signed-in person on without reading the form: nobody is
    signed in as someone else."""
    password = "correct horse battery staple"  # the personas' password (conftest.py)
    response = support_client.post(
        "/accounts/login/", {"username": admin_user.username, "password": password}
    )
    assert response.status_code == 302
    assert support_client.session["_auth_user_id"] != str(admin_user.pk)


@pytest.mark.django_db
def test_outsider_without_role_is_read_only(client, outsider):
    client.force_login(outsider)
    assert client.get("/").status_code == 200
    assert client.post("/", {}).status_code == 403


@pytest.mark.django_db
def test_support_can_still_sign_out(support_client):
    response = support_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert support_client.get("/").status_code == 302


@pytest.mark.django_db
def test_groups_exist_after_migrations():
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= {"Admin", "Support"}
