"""The campaign filter form: the switch, the start date and the tag picker."""

from __future__ import annotations

import datetime as dt

from django import forms


class CampaignFilterForm(forms.Form):
    filter_active = forms.BooleanField(required=False, label="Activate filter")
    start_date = forms.DateField(
        required=False,
        label="Sent on or after",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    tags = forms.MultipleChoiceField(
        required=False,
        label="Carrying any of these Campaign Monitor tags",
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, tags: list[str], disabled: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tags"].choices = [(tag, tag) for tag in tags]
        for field in self.fields.values():
            field.disabled = disabled

    def clean_start_date(self) -> dt.date | None:
        # A future date is allowed: the screen warns that nothing new syncs until then.
        return self.cleaned_data.get("start_date")

    def clean_tags(self) -> list[str]:
        return sorted(set(self.cleaned_data.get("tags") or []), key=str.lower)
