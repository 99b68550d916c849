"""Every page needs a login; Support reads everything and changes nothing."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# Values for URL parameters so every pattern can be walked.
SAMPLE_ARGS = {
    "int": "1",
    "str": "CMS-100",
    "slug": "x",
    "path": "x",
    "uuid": "00000000-0000-0000-0000-000000000000",
}
PUBLIC = {"login"}


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield entry.name, prefix + str(entry.pattern)


def _concrete(route: str) -> str:
    return "/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_ARGS[m.group(1) or "str"], route)


ALL_URLS = sorted({(name, _concrete(route)) for name, route in _walk(get_resolver().url_patterns)})


def test_there_are_urls_to_walk():
    assert len(ALL_URLS) >= 5


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "url"), ALL_URLS)
def test_anonymous_is_sent_to_login(client, name, url):
    if name in PUBLIC:
        assert client.get(url).status_code == 200
        return
    response = client.get(url)
    assert response.status_code == 302, url
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "url"), [u for u in ALL_URLS if u[0] not in {"logout"}])
def test_support_may_not_post_anywhere(support_client, name, url):
    response = support_client.post(url, {"anything": "1"})
    assert response.status_code == 403, url
    assert b"may read this console but not change it" in response.content or name == "login"


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
