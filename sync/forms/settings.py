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


class TokenCheckboxInput(forms.CheckboxInput):
    """A checkbox that sends ``token`` when ticked and is read back as the string it sent.

    Django's own checkbox reads any non-empty value but "false" as ticked ("0", "off", "no"
    all confirm); a destructive action's box must be read as exactly its token.
    """

    def __init__(self, token: str, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, check_test=lambda value: value == token)
        self.token = token

    def format_value(self, value: Any) -> str:
        return self.token

    def value_from_datadict(self, data: Any, files: Any, name: str) -> str:
        value = data.get(name)
        return value if isinstance(value, str) else ""


class ConfirmForm(forms.Form):
    """A destructive action confirmed in its dialog: the dialog's button sends ``confirm`` with
    the action's own token, and nothing else confirms it (no "on", "1" or "yes", and surely no
    "0", "off" or "no", which Django's checkbox rules would read as ticked)."""

    FULL_SYNC = "remove-and-reimport"
    DISCONNECT = "disconnect-campaign-monitor"

    confirm = forms.CharField(
        strip=False, error_messages={"required": "Confirm the action in its dialog first."}
    )

    def __init__(self, *args: Any, token: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.token = token

    def clean_confirm(self) -> bool:
        if self.cleaned_data["confirm"] != self.token:
            raise ValidationError("Confirm the action in its dialog first.")
        return True


def client_choices(connection: Connection) -> list[tuple[str, str]]:
    """The connected account's clients (never those of a disconnected account)."""
    return [(c.cm_client_id, c.name) for c in connection.current_clients().order_by("name")]


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
