"""pytest fixtures that run the sandboxes in-process on free ports (registered in tests/conftest.py)."""

from sandbox.cm.testing import *  # noqa: F401,F403
from sandbox.sf.testing import *  # noqa: F401,F403
