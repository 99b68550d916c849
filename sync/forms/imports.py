"""Forms of the import wizard: pick a source and a list, then map fields.

Choices are built from what Salesforce and Campaign Monitor answered for this org, so a posted
value that is not among them (a stale page, a tampered form) is refused with a form error.
"""

from __future__ import annotations

from typing import Any

from django import forms

from sync.models import ConsentToTrack
from sync.services.import_sources import ImportSource, SourceField
from sync.services.imports import DestinationList

NAME_JOIN = "+"
EMAIL_REQUIRED = "Choose the Salesforce field that holds the e-mail address."
EMAIL_TYPES = {"email", "string", "textarea"}


class ImportStartForm(forms.Form):
    """Step 1: where the people come from and which CM list they go to."""

    source = forms.ChoiceField(
        label="Salesforce list view or report",
        error_messages={
            "required": "Choose a list view or report to import from.",
            "invalid_choice": "That list view or report is not available; pick one from the list.",
        },
    )
    destination = forms.ChoiceField(
        label="Campaign Monitor list",
        error_messages={
            "required": "Choose the Campaign Monitor list to import into.",
            "invalid_choice": "That list is not in a client selected for sync; pick one from the "
            "list.",
        },
    )

    def __init__(
        self,
        *args: Any,
        sources: list[ImportSource],
        destinations: list[DestinationList],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", "— choose —"), *_grouped_sources(sources)]
        self.fields["destination"].choices = [("", "— choose —"), *_grouped_lists(destinations)]


def _grouped_sources(sources: list[ImportSource]) -> list[tuple[str, list[tuple[str, str]]]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for source in sources:
        group = f"{source.sobject} list views" if source.kind == "listview" else "Reports"
        groups.setdefault(group, []).append((source.key, source.label))
    return list(groups.items())


def _grouped_lists(lists: list[DestinationList]) -> list[tuple[str, list[tuple[str, str]]]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for item in lists:
        groups.setdefault(item.cm_client.name, []).append((item.key, item.name))
    return list(groups.items())


class FieldMappingForm(forms.Form):
    """Step 2: which Salesforce field fills each CM list field, and the consent to record."""

    email = forms.ChoiceField(label="Email address", error_messages={"required": EMAIL_REQUIRED})
    name = forms.ChoiceField(label="Name", required=False)
    keep_in_step = forms.BooleanField(
        label="Keep in step",
        required=False,
        help_text="After the import, every 15 minutes cmsync sends the people of this list view "
        "who changed or joined it (a standing field mapping). People who leave the view stay "
        "in the list.",
    )
    consent_to_track = forms.ChoiceField(
        label="Consent to track",
        choices=ConsentToTrack.choices,
        initial=ConsentToTrack.UNCHANGED,
        help_text="Campaign Monitor records whether each subscriber agreed to open and click "
        "tracking. Unchanged keeps what CM holds (new subscribers get No).",
    )

    def __init__(
        self,
        *args: Any,
        source_fields: list[SourceField],
        cm_fields: list[dict[str, Any]],
        can_keep_in_step: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.cm_fields = cm_fields
        if not can_keep_in_step:
            del self.fields["keep_in_step"]
        choices = [(f.path, f"{f.label} ({f.path})") for f in source_fields]
        emailish = [(f.path, f"{f.label} ({f.path})") for f in source_fields if _emailish(f)]
        self.fields["email"].choices = [("", "— choose —"), *emailish]
        self.fields["name"].choices = [("", "— don't import —"), *_name_choices(source_fields)]
        for index, cm_field in enumerate(cm_fields):
            self.fields[f"cf_{index}"] = forms.ChoiceField(
                label=cm_field.get("FieldName") or cm_field["Key"],
                required=False,
                choices=[("", "— don't import —"), *choices],
                help_text=f"Campaign Monitor field {cm_field['Key']} "
                f"({cm_field.get('DataType', 'Text')})",
            )
        if not self.is_bound:
            self.initial.update(default_mapping(source_fields, cm_fields))

    def custom_field_rows(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("cf_")]

    def mapping(self) -> tuple[str, tuple[str, ...], dict[str, str]]:
        """``(email path, name paths, {CM key: path})`` from the cleaned data (or, for a form
        not submitted, from its defaults)."""
        data = self.cleaned_data if self.is_bound else {**self.initial}
        data.setdefault("email", "")
        name = tuple(p for p in (data.get("name") or "").split(NAME_JOIN) if p)
        custom = {
            cm_field["Key"]: data[f"cf_{index}"]
            for index, cm_field in enumerate(self.cm_fields)
            if data.get(f"cf_{index}")
        }
        return data["email"], name, custom

    def mapping_for_preview(self) -> dict[str, object] | None:
        """The mapping to preview, or None while no valid e-mail field is chosen."""
        if self.is_bound and not self.is_valid():
            return None
        email, name, custom = self.mapping()
        if not email:
            return None
        return {"email": email, "name": list(name), "custom_fields": custom}


def _emailish(field: SourceField) -> bool:
    return field.data_type in EMAIL_TYPES or field.entity == "Email"


def _name_choices(fields: list[SourceField]) -> list[tuple[str, str]]:
    by_entity = {f.entity: f for f in fields if f.entity}
    choices = []
    first, last = by_entity.get("FirstName"), by_entity.get("LastName")
    if first and last:
        choices.append(
            (f"{first.path}{NAME_JOIN}{last.path}", f"{first.label} + {last.label} (first last)")
        )
    choices += [(f.path, f"{f.label} ({f.path})") for f in fields if f.data_type != "boolean"]
    return choices


def default_mapping(
    source_fields: list[SourceField], cm_fields: list[dict[str, Any]]
) -> dict[str, str]:
    """What the form starts with: Email, the person's name, and CM fields whose name matches a
    Salesforce field's label or API name."""
    by_entity = {f.entity: f for f in source_fields if f.entity}
    initial: dict[str, str] = {}
    if "Email" in by_entity:
        initial["email"] = by_entity["Email"].path
    if "Name" in by_entity:
        initial["name"] = by_entity["Name"].path
    elif "FirstName" in by_entity and "LastName" in by_entity:
        initial["name"] = by_entity["FirstName"].path + NAME_JOIN + by_entity["LastName"].path
    names = {}
    for f in source_fields:
        names.setdefault(f.label.lower(), f.path)
        names.setdefault(f.path.lower(), f.path)
    for index, cm_field in enumerate(cm_fields):
        match = names.get(str(cm_field.get("FieldName", "")).lower())
        if match:
            initial[f"cf_{index}"] = match
    return initial
