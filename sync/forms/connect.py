"""Forms of the Connect flows: an API key for Campaign Monitor, and Reconnect.

Each form normalises what a person typed into the value the connect services take.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from sync.clients.campaign_monitor import sendable
from sync.forms.settings import TokenCheckboxInput, client_choices
from sync.models import CMClient, Connection
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
    if not sendable(key):
        raise ValidationError(
            "An API key has only ASCII letters, digits and punctuation, and this one has other "
            "characters: copy it again from Campaign Monitor (Account settings → API keys)."
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


class ReconnectForm(forms.Form):
    """New Campaign Monitor credentials for the same account, and the clients to keep.

    With several clients every client to keep must be ticked again; leaving a selected client
    out needs ``confirm_loss``: that client's cmsync configuration is deleted.
    """

    # The box's own value, not any truthy string, confirms the loss (see TokenCheckboxInput).
    LOSS_TOKEN = "delete-configuration-of-clients-left-out"

    confirm_loss = forms.CharField(
        required=False,
        strip=False,
        label="I understand: cmsync deletes its configuration for the clients listed above.",
        widget=TokenCheckboxInput(LOSS_TOKEN),
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
        choices = client_choices(connection)
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
            keep = list(self.connection.current_clients().values_list("cm_client_id", flat=True))
        cleaned["keep_client_ids"] = keep
        self.losing = clients_losing_configuration(self.connection, keep)
        if self.losing and cleaned.get("confirm_loss") != self.LOSS_TOKEN:
            self.add_error(
                "confirm_loss",
                "Some selected clients are left out: read the warning and tick the box to "
                "confirm, or select them again.",
            )
        return cleaned
