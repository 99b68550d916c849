"""Options shared by both sandboxes; ``run_sandbox`` and the pytest fixtures fill them in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class SandboxConfig:
    seed: str = "demo"  # "demo" or "empty"
    subscribers: int = 500  # demo subscribers across all clients
    events: int = 5000  # demo tracking events across all campaigns
    random_seed: int = 0  # makes demo data and probabilistic faults reproducible
    faults: str = ""  # fault spec, see sandbox.core.faults
    cm_api_key: str = "sandbox-cm-key"
    cm_oauth_client_id: str = "cmsync-sandbox-client"
    cm_oauth_client_secret: str = "cmsync-sandbox-secret"
    sf_username: str = "admin@sandbox.cmsync"
    sf_password: str = "sandbox"
    sf_client_id: str = "cmsync-sandbox-connected-app"
    sf_client_secret: str = "cmsync-sandbox-connected-secret"
    sf_daily_api_limit: int = 100_000
    token_lifetime_seconds: int = 7200  # OAuth access tokens expire after this
    state_dir: Path | None = None  # where the SF sandbox may keep its optional SQLite file
    persist: bool = False  # keep SF sandbox state in state_dir across restarts
    # The minute (since the epoch) the CM demo data is dated from; None = now. run_sandbox
    # --persist keeps it, so a restarted demo shows the same history instead of shifted copies.
    seed_epoch_minute: int | None = None
