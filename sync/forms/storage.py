"""Forms of the Storage screen: tracking history and campaign-member aggregates.

They normalise what a person ticked and typed into the values :mod:`sync.services.storage`
takes: a whole number of days and a list of :class:`EmailType` values.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from sync.models import EmailType, SyncOptions

MAX_DAYS_TO_KEEP = 3650
DAYS_ERROR = (
    f"Enter a whole number of days from 0 to {MAX_DAYS_TO_KEEP:,} (0 stores no tracking history)."
)
NO_TYPES_ERROR = (
    "Choose at least one email type to keep, or set days to keep to 0 to store no tracking "
    "history at all."
)


class TrackingHistoryForm(forms.Form):
    """Which tracking history cmsync stores in Salesforce: the last N days of the chosen types."""

    days_to_keep = forms.CharField(
        label="Days to keep",
        max_length=12,
        widget=forms.NumberInput(attrs={"min": 0, "max": MAX_DAYS_TO_KEEP, "step": 1}),
        error_messages={"required": DAYS_ERROR},
        help_text="0 stores none; older events are deleted from Salesforce by the retention job.",
    )
    email_types_to_keep = forms.MultipleChoiceField(
        label="Email types to keep",
        choices=EmailType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "%(value)s is not an email type cmsync knows."},
    )
    # Set by the confirmation page: the person saw how many records the change deletes.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    @classmethod
    def for_options(cls, options: SyncOptions) -> TrackingHistoryForm:
        return cls(
            initial={
                "days_to_keep": options.days_to_keep,
                "email_types_to_keep": options.kept_types(),
            }
        )

    def clean_days_to_keep(self) -> int:
        text = str(self.cleaned_data["days_to_keep"]).strip()
        if not text.isascii() or not text.isdigit():
            raise ValidationError(DAYS_ERROR, code="invalid")
        days = int(text)
        if days > MAX_DAYS_TO_KEEP:
            raise ValidationError(DAYS_ERROR, code="max_value")
        return days

    def clean_email_types_to_keep(self) -> list[str]:
        return EmailType.in_order(self.cleaned_data["email_types_to_keep"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        days = cleaned.get("days_to_keep")
        if isinstance(days, int) and days > 0 and not cleaned.get("email_types_to_keep"):
            self.add_error("email_types_to_keep", ValidationError(NO_TYPES_ERROR, code="empty"))
        return cleaned


class CampaignMemberAggregatesForm(forms.Form):
    campaign_member_aggregates = forms.BooleanField(
        label="Campaign member aggregates", required=False
    )

    def clean_campaign_member_aggregates(self) -> bool:
        return bool(self.cleaned_data["campaign_member_aggregates"])
