"""Forms of the Sync Settings screen.

Each form validates what a person typed and normalises it into the value the services take
(a :class:`Frequency`, a list of CM client ids, a Salesforce user id); views only call services.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from sync.models import Connection, Frequency, Plan


class FrequencyForm(forms.Form):
    frequency = forms.TypedChoiceField(
        label="Import frequency",
        choices=Frequency.choices,
        coerce=int,
        error_messages={"invalid_choice": "Choose one of the listed import frequencies."},
    )

    def clean_frequency(self) -> Frequency:
        return Frequency(self.cleaned_data["frequency"])


class ConfirmForm(forms.Form):
    """A destructive action confirmed in its dialog (the dialog's button sends ``confirm``)."""

    confirm = forms.BooleanField(
        error_messages={"required": "Confirm the action in its dialog first."}
    )


def client_choices(connection: Connection) -> list[tuple[str, str]]:
    return [(c.cm_client_id, c.name) for c in connection.clients.order_by("name")]


class SelectClientsForm(forms.Form):
    """Which clients (sub-accounts) of an agency account cmsync syncs.

    ``single=True`` (Standard plan, choosing the first client) offers one choice only: syncing
    several clients needs the Enterprise plan.
    """

    def __init__(self, connection: Connection, *args: Any, single: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.connection = connection
        choices = client_choices(connection)
        required = {"required": "Select at least one Campaign Monitor client."}
        if single:
            self.fields["clients"] = forms.ChoiceField(
                label="Client to sync",
                choices=choices,
                widget=forms.RadioSelect,
                error_messages=required,
            )
        else:
            self.fields["clients"] = forms.MultipleChoiceField(
                label="Clients to sync",
                choices=choices,
                widget=forms.CheckboxSelectMultiple,
                error_messages=required,
                initial=list(
                    connection.clients.filter(selected=True).values_list("cm_client_id", flat=True)
                ),
            )

    def clean_clients(self) -> list[str]:
        value = self.cleaned_data["clients"]
        ids = [value] if isinstance(value, str) else list(value)
        if len(ids) > 1 and self.connection.plan != Plan.ENTERPRISE:
            raise ValidationError(
                "Syncing several clients of an agency account needs the Enterprise plan."
            )
        return ids


class SecurityOwnerForm(forms.Form):
    """The Salesforce user who will own the records cmsync creates for one client."""

    owner = forms.ChoiceField(
        label="Salesforce Security Owner",
        error_messages={
            "required": "Choose an active Salesforce user.",
            "invalid_choice": "Choose an active Salesforce user.",
        },
    )

    def __init__(self, users: list[dict], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [
            (user["Id"], user_label(user)) for user in users if user.get("IsActive", True)
        ]

    def clean_owner(self) -> str:
        return self.cleaned_data["owner"]


def user_label(user: dict) -> str:
    name = user.get("Name") or user.get("Username") or user.get("Id")
    username = user.get("Username")
    return f"{name} ({username})" if username and username != name else str(name)
