"""Connect the console to the local sandbox for the `make run` demo (idempotent)."""

from __future__ import annotations

import time
from typing import Any

import requests
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from sandbox.config import SandboxConfig
from sync.models import RunTrigger
from sync.services.runs import request_run
from sync.services.status import get_connection


class Command(BaseCommand):
    help = "Wait for the sandbox, then connect cmsync to it with every demo client selected."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--cm-url", default="https://127.0.0.1:8701")
        parser.add_argument("--sf-url", default="https://127.0.0.1:8702")
        parser.add_argument("--timeout", type=int, default=120)

    def handle(self, *args: Any, **options: Any) -> None:
        self._wait_for(options["cm_url"] + "/__sandbox__/stats", options["timeout"])
        self._wait_for(options["sf_url"] + "/services/data/", options["timeout"])
        defaults = SandboxConfig()
        call_command(
            "connect",
            cm_base_url=options["cm_url"] + "/api/v3.3",
            cm_api_key=defaults.cm_api_key,
            sf_instance_url=options["sf_url"],
            sf_username=defaults.sf_username,
            sf_password=defaults.sf_password,
            sf_client_id=settings.SF_CLIENT_ID or defaults.sf_client_id,
            sf_client_secret=settings.SF_CLIENT_SECRET or defaults.sf_client_secret,
            clients="all",
            stdout=self.stdout,
        )
        connection = get_connection()
        if connection is not None and not connection.runs.exists():
            run, _ = request_run(connection, trigger=RunTrigger.MANUAL)
            self.stdout.write(f"Queued the first sync (run {run.pk}); the worker picks it up.")

    def _wait_for(self, url: str, timeout: int) -> None:
        deadline = time.monotonic() + timeout
        ca = settings.CMSYNC_CA_BUNDLE or None
        while time.monotonic() < deadline:
            try:
                requests.get(url, verify=ca, timeout=2)
                return
            except (requests.ConnectionError, OSError):
                time.sleep(0.5)
        raise CommandError(f"the sandbox did not answer at {url} within {timeout} s")
