"""The industry benchmarks form: the account's industry and each client's own."""

from __future__ import annotations

from django import forms

from campaigns.services.benchmarks import SAME_AS_ACCOUNT, ClientChoice

CLIENT_PREFIX = "client_"


class BenchmarkForm(forms.Form):
    account_industry = forms.ChoiceField(label="Industry of the account")

    def __init__(
        self,
        *args,
        industries: list[str],
        clients: list[ClientChoice],
        disabled: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = [(name, name) for name in industries]
        self.fields["account_industry"].choices = choices
        self.client_names: dict[str, str] = {}
        for choice in clients:
            name = f"{CLIENT_PREFIX}{choice.cm_client.pk}"
            self.fields[name] = forms.ChoiceField(
                label=choice.cm_client.name,
                required=False,
                choices=[("", SAME_AS_ACCOUNT), *choices],
                initial=choice.industry,
            )
            self.client_names[name] = choice.cm_client.name
        for field in self.fields.values():
            field.disabled = disabled

    def client_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.client_names]

    def client_industries(self) -> dict[int, str]:
        """cm_client pk → industry ("" = the account's), once valid."""
        return {
            int(name.removeprefix(CLIENT_PREFIX)): self.cleaned_data.get(name) or ""
            for name in self.client_names
        }
