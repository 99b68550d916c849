"""Salesforce Campaigns tests run over both sandboxes with a connected console."""

from __future__ import annotations

from tests.sync.conftest import connection, sandbox_settings  # noqa: F401 (fixtures)
