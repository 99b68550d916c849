"""Reconcile Campaign Monitor against Salesforce, record by record, and print the result."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sync.clients.errors import ApiError
from sync.services.reconcile import reconcile_connection
from sync.services.status import get_connection


class Command(BaseCommand):
    help = (
        "Compare the selected CM clients with cmsync's records in Salesforce: missing, extra, "
        "different, duplicates (counts, then the first rows of each). Exit status 1 if any."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--samples", type=int, default=20, help="rows shown of each kind")
        parser.add_argument("--json", action="store_true", help="print one JSON document")

    def handle(self, *args: Any, **options: Any) -> None:
        connection = get_connection()
        if connection is None or not (connection.cm_connected and connection.sf_connected):
            raise CommandError("Not connected: run `manage.py connect` first.")
        try:
            result = reconcile_connection(connection, sample_size=max(0, options["samples"]))
        except ApiError as exc:
            raise CommandError(f"Could not read {exc.endpoint or 'an API'}: {exc}") from None
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict()))
        else:
            self.stdout.write(result.render())
        if not result.clean:
            raise SystemExit(1)
