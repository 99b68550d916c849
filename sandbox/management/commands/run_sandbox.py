"""Serve the Campaign Monitor and Salesforce sandboxes over HTTPS until interrupted."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sandbox.config import SandboxConfig
from sandbox.core.faults import FaultSpecError, parse_fault_spec
from sandbox.core.http import SandboxServer


class Command(BaseCommand):
    help = "Run the local HTTPS stand-ins for the Campaign Monitor and Salesforce APIs."

    def add_arguments(self, parser) -> None:
        defaults = SandboxConfig()
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--cm-port", type=int, default=8701)
        parser.add_argument("--sf-port", type=int, default=8702)
        parser.add_argument("--seed", choices=["demo", "empty"], default="demo")
        parser.add_argument("--subscribers", type=int, default=defaults.subscribers)
        parser.add_argument("--events", type=int, default=defaults.events)
        parser.add_argument("--random-seed", type=int, default=defaults.random_seed)
        parser.add_argument("--faults", default="", help="e.g. 503:0.05,429:0.02@subscribers.*")
        parser.add_argument("--cm-api-key", default=defaults.cm_api_key)
        parser.add_argument("--sf-username", default=defaults.sf_username)
        parser.add_argument("--sf-password", default=defaults.sf_password)
        parser.add_argument("--sf-daily-api-limit", type=int, default=defaults.sf_daily_api_limit)
        parser.add_argument(
            "--persist",
            action="store_true",
            help="keep the Salesforce sandbox's records in var/sandbox/ across restarts",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        config = self._config(options)
        from sandbox.cm import build_app as build_cm_app
        from sandbox.sf import build_app as build_sf_app

        cert_dir = settings.CMSYNC_SANDBOX_DIR
        try:
            cm = SandboxServer(build_cm_app(config), cert_dir, options["host"], options["cm_port"])
            sf = SandboxServer(build_sf_app(config), cert_dir, options["host"], options["sf_port"])
        except OSError as exc:
            raise CommandError(f"cannot listen: {exc}") from None
        self._announce(cm, sf, config)
        cm.start()
        sf.start()
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            cm.stop()
            sf.stop()

    def _config(self, options: dict[str, Any]) -> SandboxConfig:
        if options["host"] not in {"127.0.0.1", "localhost", "::1"}:
            raise CommandError("--host must be a loopback address (127.0.0.1, localhost or ::1)")
        for name in ("subscribers", "events"):
            if options[name] < 0:
                raise CommandError(f"--{name} must not be negative")
        try:
            parse_fault_spec(options["faults"])
        except FaultSpecError as exc:
            raise CommandError(f"--faults: {exc}") from None
        epoch = _demo_epoch(settings.CMSYNC_SANDBOX_DIR) if options["persist"] else None
        return SandboxConfig(
            seed=options["seed"],
            subscribers=options["subscribers"],
            events=options["events"],
            random_seed=options["random_seed"],
            faults=options["faults"],
            cm_api_key=options["cm_api_key"],
            sf_username=options["sf_username"],
            sf_password=options["sf_password"],
            sf_daily_api_limit=options["sf_daily_api_limit"],
            state_dir=settings.CMSYNC_SANDBOX_DIR,
            persist=options["persist"],
            seed_epoch_minute=epoch,
        )

    def _announce(self, cm: SandboxServer, sf: SandboxServer, config: SandboxConfig) -> None:
        lines = [
            f"Campaign Monitor sandbox: {cm.url}/api/v3.3/",
            f"  API key: {config.cm_api_key}",
            f"  OAuth client id / secret: {config.cm_oauth_client_id} / "
            f"{config.cm_oauth_client_secret}",
            f"Salesforce sandbox: {sf.url}",
            f"  username / password: {config.sf_username} / {config.sf_password}",
            f"  connected app id / secret: {config.sf_client_id} / {config.sf_client_secret}",
            f"CA file (set CMSYNC_CA_BUNDLE to it): {cm.ca_file}",
            f"Seed: {config.seed} ({config.subscribers} subscribers, {config.events} events, "
            f"random seed {config.random_seed}); faults: {config.faults or 'none'}",
        ]
        self.stdout.write("\n".join(lines), ending="\n")
        self.stdout.flush()


def _demo_epoch(folder) -> int:
    """The minute the persisted demo was first dated from (written on first start)."""
    path = Path(folder) / "demo-epoch-minute.txt"
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        minute = int(time.time() // 60)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(str(minute))
        return minute
