"""The options form of the Salesforce Campaigns screen."""

from __future__ import annotations

from django import forms

from campaigns.services.settings import OPTIONS

HINTS: dict[str, str] = {
    "auto_create": (
        "Every sent Campaign Monitor campaign synced from now on gets a new Salesforce Campaign "
        "(type Email, start date = sent date, status Completed, active), linked at once; its "
        "recipients who are Contacts or Leads become CampaignMembers. Campaigns synced before "
        "are handled by the backfill below."
    ),
    "update_statistics": (
        "Each sync writes recipients (NumberSent), unique opens, clicks, bounces, unsubscribes, "
        "spam complaints and their rates onto the linked Salesforce Campaign."
    ),
}


class CampaignSettingsForm(forms.Form):
    auto_create = forms.BooleanField(required=False)
    update_statistics = forms.BooleanField(required=False)

    def __init__(self, *args, disabled: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.label = OPTIONS[name]
            field.help_text = HINTS[name]
            field.disabled = disabled
