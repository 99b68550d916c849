"""Create the first console Admin if there is none (used by `make run`)."""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from cmsync.roles import ADMIN_GROUP


class Command(BaseCommand):
    help = (
        "Create user 'admin' in the Admin group (password from CMSYNC_ADMIN_PASSWORD or generated)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default=os.environ.get("CMSYNC_ADMIN_USER", "admin"))

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        username = options["username"]
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"Login: {username} (existing user; password unchanged)")
            return
        password = os.environ.get("CMSYNC_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        user = User.objects.create_superuser(username=username, email="", password=password)
        user.groups.add(Group.objects.get(name=ADMIN_GROUP))
        if os.environ.get("CMSYNC_ADMIN_PASSWORD"):
            self.stdout.write(f"Login: {username} / (password from CMSYNC_ADMIN_PASSWORD)")
        else:
            self.stdout.write(f"Login: {username} / {password}   (generated; shown only this once)")
