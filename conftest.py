"""Project-wide pytest fixtures: the three personas and the in-process sandboxes."""

from __future__ import annotations

import pytest

pytest_plugins = ["sandbox.pytest_plugin"]

PASSWORD = "correct horse battery staple"


def _make_user(django_user_model, username: str, group: str | None, **extra):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username=username, password=PASSWORD, **extra)
    if group:
        # get_or_create: a transactional test empties the tables the data migration filled.
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture
def admin_user(db, django_user_model):
    """A console Admin: may change everything."""
    return _make_user(django_user_model, "alice-admin", "Admin")


@pytest.fixture
def support_user(db, django_user_model):
    """A Support person: reads everything, changes nothing."""
    return _make_user(django_user_model, "sam-support", "Support")


@pytest.fixture
def outsider(db, django_user_model):
    """Signed in but in no group: treated as read-only."""
    return _make_user(django_user_model, "olly-outsider", None)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def support_client(client, support_user):
    client.force_login(support_user)
    return client
