"""Forms of the Sync Settings screen and the Connect flows.

Each form validates what a person typed and normalises it into the value the services take
(a :class:`Frequency`, a list of CM client ids, a Salesforce user id); views only call services.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from sync.models import CMClient, Connection, Frequency, Plan
from sync.services.connect import clients_losing_configuration

API_KEY_HELP = (
    "An account-level API key: in Campaign Monitor open Account settings → API keys and copy "
    "the key shown there."
)


def _clean_api_key(value: str) -> str:
    key = value.strip()
    if not key:
        raise ValidationError("Enter the Campaign Monitor API key.")
    if any(char.isspace() for char in key):
        raise ValidationError(
            "An API key has no spaces or line breaks: copy it again from Campaign Monitor "
            "(Account settings → API keys)."
        )
    return key


def _api_key_field(required: bool = True) -> forms.CharField:
    return forms.CharField(
        label="API key",
        required=required,
        max_length=200,
        help_text=API_KEY_HELP,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        error_messages={"required": "Enter the Campaign Monitor API key."},
    )


class ApiKeyForm(forms.Form):
    """Connect Campaign Monitor with an API key."""

    api_key = _api_key_field()

    def clean_api_key(self) -> str:
        return _clean_api_key(self.cleaned_data["api_key"])


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


def _client_choices(connection: Connection) -> list[tuple[str, str]]:
    return [(c.cm_client_id, c.name) for c in connection.clients.order_by("name")]


class SelectClientsForm(forms.Form):
    """Which clients (sub-accounts) of an agency account cmsync syncs.

    ``single=True`` (Standard plan, choosing the first client) offers one choice only: syncing
    several clients needs the Enterprise plan.
    """

    def __init__(self, connection: Connection, *args: Any, single: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.connection = connection
        choices = _client_choices(connection)
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


class ReconnectForm(forms.Form):
    """New Campaign Monitor credentials for the same account, and the clients to keep.

    With several clients every client to keep must be ticked again; leaving a selected client
    out needs ``confirm_loss``: that client's cmsync configuration is deleted.
    """

    confirm_loss = forms.BooleanField(
        required=False,
        label="I understand: cmsync deletes its configuration for the clients listed above.",
    )

    def __init__(
        self, connection: Connection, *args: Any, have_tokens: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.connection = connection
        self.have_tokens = have_tokens
        self.losing: list[CMClient] = []
        if not have_tokens:
            self.fields["api_key"] = _api_key_field()
        choices = _client_choices(connection)
        self.several_clients = len(choices) > 1
        if self.several_clients:
            self.fields["clients"] = forms.MultipleChoiceField(
                label="Clients to keep syncing",
                choices=choices,
                widget=forms.CheckboxSelectMultiple,
                error_messages={"required": "Select every client to keep syncing (at least one)."},
            )
        self.order_fields(["api_key", "clients", "confirm_loss"])

    def clean_api_key(self) -> str:
        return _clean_api_key(self.cleaned_data["api_key"])

    def clean_clients(self) -> list[str]:
        return list(self.cleaned_data["clients"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.several_clients:
            keep = cleaned.get("clients")
            if keep is None:
                return cleaned
        else:
            keep = list(self.connection.clients.values_list("cm_client_id", flat=True))
        cleaned["keep_client_ids"] = keep
        self.losing = clients_losing_configuration(self.connection, keep)
        if self.losing and not cleaned.get("confirm_loss"):
            self.add_error(
                "confirm_loss",
                "Some selected clients are left out: read the warning and tick the box to "
                "confirm, or select them again.",
            )
        return cleaned
