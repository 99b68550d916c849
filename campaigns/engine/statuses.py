"""CampaignMember statuses from the CM activities: the status map applied to one Campaign.

Rules this module keeps:

- The map lists the mapped activities most advanced first (the precedence); a member's status is
  the label of its most advanced mapped activity whose label the Campaign has.
- A status only moves forward: an existing member whose status ranks at or above the target keeps
  it (a member who clicked stays "Clicked" when a later run only sees an open, e.g. because the
  click records are no longer stored). A label the map does not know ranks lowest, so the
  Campaign's default status a member was created with moves forward.
- Existing members are moved only with "update on every primary sync" on; a new member always gets
  its mapped status.
- Labels the Campaign lacks are created as ``CampaignMemberStatus`` rows (``HasResponded`` for
  opened and clicked) only with auto-create on; otherwise they are reported missing and the
  activities that need them set no status. Nothing in Salesforce is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sync.clients.salesforce import SalesforceClient
from sync.engine.extensions import MemberStatusPolicy
from sync.engine.matcher import soql_string

STATUS_OBJECT = "CampaignMemberStatus"


class MappedStatuses(MemberStatusPolicy):
    """The status map on one Campaign, limited to the labels the Campaign has."""

    def __init__(
        self, precedence: list[tuple[str, str]], available: dict[str, str], update_existing: bool
    ) -> None:
        # (activity, label as the Campaign spells it), most advanced first, labels it has.
        self.order = [
            (activity, available[label.lower()])
            for activity, label in precedence
            if label.lower() in available
        ]
        self.update_existing = update_existing
        self.ranks: dict[str, int] = {}
        for position, (_activity, label) in enumerate(reversed(self.order), start=1):
            self.ranks[label.lower()] = max(self.ranks.get(label.lower(), 0), position)

    def target(self, activities: frozenset[str]) -> str | None:
        # Only a status that may move belongs in the fingerprint: with updates off a changed
        # target alone writes nothing (and the fingerprints stay those of the statistics).
        return self._target(activities) if self.update_existing else None

    def _target(self, activities: frozenset[str]) -> str | None:
        return next((label for activity, label in self.order if activity in activities), None)

    def status(self, activities: frozenset[str], current: str | None) -> str | None:
        target = self._target(activities)
        if target is None:
            return None
        if current is None:
            return target
        if not self.update_existing or self.rank(current) >= self.rank(target):
            return None  # forward only; the same label ranks the same
        return target

    def rank(self, label: str) -> int:
        return self.ranks.get(label.lower(), 0)


@dataclass
class StatusCheck:
    """The Campaign's labels (lower case → spelling) after the check, and what went wrong."""

    available: dict[str, str] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def ensure_statuses(
    sf: SalesforceClient,
    sf_campaign_id: str,
    precedence: list[tuple[str, str]],
    auto_create: bool,
    responded: frozenset[str],
) -> StatusCheck:
    """Read the Campaign's member statuses; with ``auto_create`` add the mapped labels it lacks."""
    check = StatusCheck()
    top = 0
    soql = (
        f"SELECT Label, SortOrder FROM {STATUS_OBJECT} "
        f"WHERE CampaignId = {soql_string(sf_campaign_id)}"
    )
    for row in sf.query_iter(soql):
        label = str(row.get("Label") or "")
        check.available[label.lower()] = label
        top = max(top, int(row.get("SortOrder") or 0))
    wanted: dict[str, bool] = {}  # label → HasResponded, labels the Campaign lacks
    for activity, label in precedence:
        if label.lower() not in check.available:
            wanted[label] = wanted.get(label, False) or activity in responded
    if not wanted:
        return check
    if not auto_create:
        check.missing = list(wanted)
        return check
    rows = [
        {"CampaignId": sf_campaign_id, "Label": label, "HasResponded": has, "SortOrder": top + i}
        for i, (label, has) in enumerate(wanted.items(), start=1)
    ]
    for row, outcome in zip(rows, sf.create(STATUS_OBJECT, rows), strict=True):
        if outcome.success:
            check.available[row["Label"].lower()] = row["Label"]
            check.created.append(row["Label"])
        else:
            check.refused.append(f"{row['Label']}: {outcome.error_text}")
    return check
