"""Secrets are encrypted at rest and never shown."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from django.db import connection as db_connection

from lib.fields import Secret
from sync.models import Connection

API_KEY = "cm-live-key-9f8e7d6c5b4a"


def _raw_column(pk: int, column: str) -> str:
    with db_connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM sync_connection WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_api_key_is_ciphertext_in_the_database_and_plaintext_only_on_reveal():
    conn = Connection.objects.create(cm_api_key=API_KEY)
    raw = _raw_column(conn.pk, "cm_api_key")
    assert API_KEY not in raw
    assert raw.startswith("fernet:")
    loaded = Connection.objects.get(pk=conn.pk)
    assert isinstance(loaded.cm_api_key, Secret)
    assert loaded.cm_api_key.reveal() == API_KEY


@pytest.mark.django_db
def test_secret_never_appears_in_repr_str_or_logs(caplog):
    conn = Connection.objects.create(cm_api_key=API_KEY, sf_access_token="00Dxx!tokenvalue")
    loaded = Connection.objects.get(pk=conn.pk)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info(
            "connection key %s / %r", loaded.cm_api_key, loaded.sf_access_token
        )
    for text in (repr(loaded.cm_api_key), str(loaded.cm_api_key), caplog.text, repr(vars(loaded))):
        assert API_KEY not in text
        assert "tokenvalue" not in text


@pytest.mark.django_db
def test_empty_secret_stays_empty():
    conn = Connection.objects.create()
    assert _raw_column(conn.pk, "cm_api_key") == ""
    assert not Connection.objects.get(pk=conn.pk).cm_api_key


@pytest.mark.django_db
def test_key_rotation_old_values_still_decrypt(settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    conn = Connection.objects.create(cm_api_key=API_KEY)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old_key]
    loaded = Connection.objects.get(pk=conn.pk)
    assert loaded.cm_api_key.reveal() == API_KEY
    loaded.save()  # re-encrypts under the new first key
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS[:1]
    assert Connection.objects.get(pk=conn.pk).cm_api_key.reveal() == API_KEY


@pytest.mark.django_db
def test_unknown_key_gives_a_clear_error_without_the_value(settings):
    conn = Connection.objects.create(cm_api_key=API_KEY)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ValueError, match="FIELD_ENCRYPTION_KEY does not list the key") as info:
        Connection.objects.get(pk=conn.pk)
    assert API_KEY not in str(info.value)


def test_secret_fields_are_not_editable_in_forms_or_admin():
    for name in (
        "cm_api_key",
        "cm_access_token",
        "cm_refresh_token",
        "sf_access_token",
        "sf_refresh_token",
    ):
        assert Connection._meta.get_field(name).editable is False
