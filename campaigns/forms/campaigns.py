"""The search box of the campaigns list."""

from __future__ import annotations

from django import forms


class CampaignListSearchForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100)
