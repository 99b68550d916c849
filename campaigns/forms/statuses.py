"""The Campaign member statuses form: two options and the status map with its precedence."""

from __future__ import annotations

from django import forms

from campaigns.models import MEMBER_ACTIVITIES
from campaigns.services.statuses import LABEL_MAX, OPTIONS

HINTS: dict[str, str] = {
    "update_statuses": (
        "Each primary sync moves existing CampaignMembers to the status of their most advanced "
        "activity, never back. Off: only new members get a mapped status."
    ),
    "auto_create_statuses": (
        "Labels the linked Salesforce Campaign lacks are added to it as member statuses "
        "(counted as responded for opened and clicked). Off: a missing label is reported and "
        "not used."
    ),
}
NO_RANK = "Give a mapped activity its precedence (1 = most advanced)."
EMPTY_LABEL = "A status map with an empty label is refused: give this activity a label."


def slug(activity: str) -> str:
    """A form field suffix for an activity ("Spam Complaint" → "spam_complaint")."""
    return activity.lower().replace(" ", "_")


class MemberStatusesForm(forms.Form):
    update_statuses = forms.BooleanField(required=False)
    auto_create_statuses = forms.BooleanField(required=False)

    def __init__(self, *args, disabled: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in OPTIONS:
            self.fields[name].label = OPTIONS[name]
            self.fields[name].help_text = HINTS[name]
        for activity, shown in MEMBER_ACTIVITIES:
            key = slug(activity)
            self.fields[f"use_{key}"] = forms.BooleanField(required=False, label=shown)
            self.fields[f"label_{key}"] = forms.CharField(
                required=False, max_length=LABEL_MAX, label=f"Status for {shown.lower()}"
            )
            self.fields[f"rank_{key}"] = forms.IntegerField(
                required=False,
                min_value=1,
                max_value=len(MEMBER_ACTIVITIES),
                label=f"Precedence of {shown.lower()}",
            )
        for field in self.fields.values():
            field.disabled = disabled

    def rows(self) -> list[dict]:
        """One row per activity for the template: its fields side by side."""
        return [
            {
                "activity": shown,
                "use": self[f"use_{slug(activity)}"],
                "label": self[f"label_{slug(activity)}"],
                "rank": self[f"rank_{slug(activity)}"],
            }
            for activity, shown in MEMBER_ACTIVITIES
        ]

    def clean(self) -> dict:
        data = super().clean()
        mapped: list[tuple[int, str, str]] = []
        for activity, _shown in MEMBER_ACTIVITIES:
            key = slug(activity)
            if not data.get(f"use_{key}"):
                continue
            label = (data.get(f"label_{key}") or "").strip()
            rank = data.get(f"rank_{key}")
            if not label:
                self.add_error(f"label_{key}", EMPTY_LABEL)
            if rank is None:
                self.add_error(f"rank_{key}", NO_RANK)
                continue
            mapped.append((rank, activity, label))
        ranks = [rank for rank, _a, _l in mapped]
        if len(set(ranks)) != len(ranks):
            raise forms.ValidationError("Two mapped activities have the same precedence.")
        if not mapped and not self.errors:
            raise forms.ValidationError("Map at least one activity to a member status.")
        # Most advanced first: the status map as the service takes it.
        data["status_map"] = [(activity, label) for _rank, activity, label in sorted(mapped)]
        return data


def initial_from(saved) -> dict:
    """The form's initial values from saved :class:`MemberStatusSettings`."""
    initial: dict = {name: getattr(saved, name) for name in OPTIONS}
    for activity, shown in MEMBER_ACTIVITIES:  # a label to start from when an activity is added
        initial[f"label_{slug(activity)}"] = shown
    for position, (activity, label) in enumerate(saved.precedence(), start=1):
        key = slug(activity)
        initial.update({f"use_{key}": True, f"label_{key}": label, f"rank_{key}": position})
    return initial
