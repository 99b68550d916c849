"""Forms of the General Options screen, the consent log and the live tracking panel."""

from __future__ import annotations

from django import forms

from sync.services.options import GENERAL_OPTIONS

INTEGRATION_PERMISSION_SET = "cmsync_Integration"

# The help hint shown next to each switch (on hover and on keyboard focus).
OPTION_HINTS: dict[str, str] = {
    "email_opt_sync": (
        "Keeps email opt-outs in step both ways. Campaign Monitor → Salesforce: when a "
        "subscriber is unsubscribed (or deleted) on all of a client's lists they are on, "
        "Email Opt Out (HasOptedOutOfEmail) is set on the matching Contacts and Leads. "
        "Salesforce → Campaign Monitor: a Contact or Lead whose Email Opt Out turns on is "
        "unsubscribed from the client's lists by the opt-out batch job. Turning it off again "
        "never resubscribes anyone (Campaign Monitor's consent rules). If both sides changed, "
        "the newer change wins. Every change is written to the consent log."
    ),
    "trigger_journeys": (
        "Subscribers that cmsync adds to Campaign Monitor start the list's journeys and "
        "autoresponders, as if they had signed up themselves (cmsync sets Campaign Monitor's "
        "queue- and restart-autoresponders flags on its imports). Off: they are added silently."
    ),
    "account_trigger": (
        "A change on an Account re-evaluates the subscriber rules of all its Contacts, so "
        "rules that look at Account fields (industry, region …) stay current. Takes full "
        "effect once subscriber rules are available."
    ),
    "disable_triggers": (
        "Stops every Salesforce → Campaign Monitor change: no adds, updates or unsubscribes "
        "are sent to Campaign Monitor. Campaign Monitor → Salesforce sync goes on. Use it "
        "while you bulk-edit Salesforce records."
    ),
    "suppression_sync": (
        "Optional. Each primary sync mirrors every Campaign Monitor client's suppression list "
        "into cmsync's suppression object in Salesforce: one record per suppressed address, "
        "removed again when the address is unsuppressed."
    ),
}


class GeneralOptionsForm(forms.Form):
    """The five General Options switches; an unticked box means off."""

    email_opt_sync = forms.BooleanField(required=False)
    trigger_journeys = forms.BooleanField(required=False)
    account_trigger = forms.BooleanField(required=False)
    disable_triggers = forms.BooleanField(required=False)
    suppression_sync = forms.BooleanField(required=False)

    def __init__(self, *args, disabled: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.label = GENERAL_OPTIONS[name]
            field.help_text = OPTION_HINTS[name]
            field.disabled = disabled


class EmailLookupForm(forms.Form):
    """One e-mail address to look up (consent log, tracking panel); submitted by GET."""

    email = forms.EmailField(
        label="Email address",
        max_length=254,
        error_messages={
            "required": "Enter an email address.",
            "invalid": "Enter a valid email address, like name@example.com.",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "off", "placeholder": "name@example.com"}),
    )

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip()
