"""The sandbox-wired connection of tests/sync, shared with the reliability tests."""

from __future__ import annotations

from tests.sync.conftest import connection, sandbox_settings  # noqa: F401 (fixtures)
