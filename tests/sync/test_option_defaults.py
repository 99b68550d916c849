"""General Options defaults: off, "with the exception of the first two items" (the guide).

New connections get Trigger journeys and Account trigger on; connections that existed before
migration 0004 keep whatever they had.
"""

from __future__ import annotations

import importlib
import re

import pytest
from django.db import connection as db
from django.db import migrations
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from sync.models import Connection, SyncOptions
from sync.services.options import GENERAL_OPTIONS

BEFORE = ("sync", "0003_imports_and_sf_org")
AFTER = ("sync", "0004_general_options_first_two_on")
FIRST_TWO = ["trigger_journeys", "account_trigger"]


@pytest.mark.django_db
def test_a_new_connection_has_the_first_two_options_on_and_the_others_off():
    options = SyncOptions.for_connection(Connection.objects.create())
    assert list(GENERAL_OPTIONS)[1:3] == FIRST_TWO  # the first two items of the sync options
    assert {name: getattr(options, name) for name in GENERAL_OPTIONS} == {
        "email_opt_sync": False,
        "trigger_journeys": True,
        "account_trigger": True,
        "disable_triggers": False,
        "suppression_sync": False,
    }
    assert options.campaign_member_aggregates is False


def test_the_options_screen_of_a_new_connection_ticks_the_first_two(admin_client):
    now = timezone.now()
    Connection.objects.create(
        cm_auth_method="api_key",
        cm_api_key="cm-key",
        cm_connected_at=now,
        sf_instance_url="https://example.my.salesforce.com",
        sf_access_token="sf-token",
        sf_connected_at=now,
    )
    text = admin_client.get("/sync/options/").content.decode()
    ticked = {
        name
        for name in GENERAL_OPTIONS
        if re.search(rf'<input[^>]*name="{name}"[^>]*checked', text)
    }
    assert ticked == set(FIRST_TWO)


def test_the_migration_changes_only_the_two_defaults():
    module = importlib.import_module(f"sync.migrations.{AFTER[1]}")
    operations = module.Migration.operations
    assert all(isinstance(op, migrations.AlterField) for op in operations)
    assert not any(isinstance(op, migrations.RunPython | migrations.RunSQL) for op in operations)
    assert sorted(op.name for op in operations) == sorted(FIRST_TWO)
    assert all(op.field.default is True for op in operations)


@pytest.mark.django_db(transaction=True)
def test_existing_connections_keep_their_choices_through_the_migration():
    executor = MigrationExecutor(db)
    try:
        executor.migrate([BEFORE])
        old = executor.loader.project_state([BEFORE]).apps
        old_options = old.get_model("sync", "SyncOptions")
        old_connection = old.get_model("sync", "Connection")
        both_off = old_options.objects.create(connection=old_connection.objects.create()).pk
        journeys_only = old_options.objects.create(
            connection=old_connection.objects.create(), trigger_journeys=True
        ).pk

        executor = MigrationExecutor(db)
        executor.migrate([AFTER])
        new_options = executor.loader.project_state([AFTER]).apps.get_model("sync", "SyncOptions")
        saved = {
            row.pk: (row.trigger_journeys, row.account_trigger) for row in new_options.objects.all()
        }
        assert saved == {both_off: (False, False), journeys_only: (True, False)}
    finally:
        executor = MigrationExecutor(db)
        executor.migrate(executor.loader.graph.leaf_nodes())
