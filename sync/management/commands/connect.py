"""Connect Campaign Monitor (API key) and Salesforce (password flow) from a script.

Each side's change is audited by the connect services; the audit log names this command
(``manage.py connect``) as who made it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from maintenance.services import command_actor
from sync.clients.errors import ApiError
from sync.clients.salesforce import password_grant
from sync.services.api import ca_bundle
from sync.services.connect import (
    ConnectError,
    connect_campaign_monitor,
    connect_salesforce,
    get_or_create_connection,
    replaced_account_clients,
)


class Command(BaseCommand):
    help = "Connect cmsync to Campaign Monitor and Salesforce (real deployments use the web flow)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--cm-base-url", default=settings.CM_API_BASE_URL)
        parser.add_argument("--cm-api-key", required=True)
        parser.add_argument("--sf-instance-url", required=True, help="login / instance URL")
        parser.add_argument("--sf-username", required=True)
        parser.add_argument("--sf-password", required=True)
        parser.add_argument("--sf-client-id", default=settings.SF_CLIENT_ID)
        parser.add_argument("--sf-client-secret", default=settings.SF_CLIENT_SECRET)
        parser.add_argument(
            "--clients", default=None, help="'all' or comma-separated CM client ids to sync"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["sf_client_id"]:
            raise CommandError("--sf-client-id (or SF_CLIENT_ID) is needed for the password flow")
        actor = command_actor("connect")
        connection = get_or_create_connection()
        select = options["clients"]
        if select and select != "all":
            select = [part.strip() for part in select.split(",") if part.strip()]
        try:
            clients = connect_campaign_monitor(
                connection,
                user=actor,
                base_url=options["cm_base_url"].rstrip("/"),
                api_key=options["cm_api_key"],
                select=select,
            )
            login_url = options["sf_instance_url"].rstrip("/")
            tokens = password_grant(
                login_url,
                options["sf_username"],
                options["sf_password"],
                options["sf_client_id"],
                options["sf_client_secret"],
                ca_bundle(),
            )
            connect_salesforce(
                connection,
                tokens,
                user=actor,
                login_url=login_url,
                username=options["sf_username"],
                password=options["sf_password"],
            )
        except ConnectError as exc:
            raise CommandError(str(exc)) from None
        except ApiError as exc:
            raise CommandError(f"Salesforce login failed: {exc.message}") from None
        connection.refresh_from_db()
        selected = [c.name for c in connection.clients.filter(selected=True)]
        replaced = replaced_account_clients(connection)
        if replaced:
            self.stdout.write(
                "This is a different Campaign Monitor account from the one disconnected: the "
                "client selection started clean. The earlier account's clients ("
                f"{', '.join(c.name for c in replaced)}) stay listed as belonging to a "
                "disconnected account; their records stay in Salesforce."
            )
        self.stdout.write(
            f"Connected. Campaign Monitor: {len(clients)} client(s), syncing "
            f"{', '.join(n for n in selected) or 'none yet (pick them on Sync Settings)'}. "
            f"Salesforce: {connection.sf_instance_url} as {connection.sf_sync_user_name}."
        )
