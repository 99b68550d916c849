"""The Campaign Monitor API v3.3 sandbox.

``build_app(config)`` returns a :class:`CampaignMonitorApp` (a ``SandboxApp``) seeded per
``config.seed``; serve it with ``sandbox.core.http.SandboxServer``. Route names, auth rules and
the sandbox-only endpoints are listed in :mod:`sandbox.cm.app`; demo data in
:mod:`sandbox.cm.seed`; pytest fixtures in :mod:`sandbox.cm.testing`.
"""

from __future__ import annotations

from .app import CampaignMonitorApp, build_app

__all__ = ["CampaignMonitorApp", "build_app"]
