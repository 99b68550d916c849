"""Linking a campaign by hand: search Salesforce Campaigns by name, then pick one or paste an Id."""

from __future__ import annotations

from django import forms


class CampaignSearchForm(forms.Form):
    """Search Salesforce Campaigns by name (submitted by GET on the campaign page)."""

    name = forms.CharField(label="Salesforce Campaign name", max_length=80)

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()


class LinkForm(forms.Form):
    sf_campaign_id = forms.CharField(
        label="Salesforce Campaign Id",
        min_length=15,
        max_length=18,
        error_messages={
            "required": "Enter the Id of a Salesforce Campaign, or search for one by name.",
            "min_length": "A Salesforce Id has 15 or 18 letters and digits.",
            "max_length": "A Salesforce Id has 15 or 18 letters and digits.",
        },
    )

    def clean_sf_campaign_id(self) -> str:
        value = self.cleaned_data["sf_campaign_id"].strip()
        if not value.isalnum() or len(value) not in (15, 18):
            raise forms.ValidationError("A Salesforce Id has 15 or 18 letters and digits.")
        return value
