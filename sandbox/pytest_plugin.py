"""pytest fixtures that run the sandboxes in-process on free ports (registered in conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def sandbox_cert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One CA and server certificate for every sandbox of the test session."""
    return tmp_path_factory.mktemp("sandbox-certs")


from sandbox.cm.testing import *  # noqa: E402,F401,F403
from sandbox.sf.testing import *  # noqa: E402,F401,F403
