"""Give every cmsync record of one Campaign Monitor client a new owner, through Bulk API 2.0.

The client's records are those of cmsync's objects that carry its id: ``CM_Client_ID__c`` on
lists, memberships, campaigns, tracking history and suppressions, ``CM_Key__c`` on the client
record itself. All of them are owned (``OwnerId``), and a change of the client's Security Owner
applies to the ones already in Salesforce as well as to those written next.

Each object is walked in ``Id`` order in batches (``SELECT Id, CM_Key__c ... WHERE OwnerId !=
owner AND Id > last ORDER BY Id LIMIT batch``): memory holds one batch, and a batch is one
Bulk API 2.0 upsert by ``CM_Key__c`` of ``OwnerId`` alone. Only records not yet owned by the new
owner are read, so running it again (a retried task, a second job) touches only what is left.
A sync writing records with the old owner while the walk passes is caught by a second pass,
run when the counts say records are left.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sync.clients.salesforce import RecordResult, SalesforceClient
from sync.clients.salesforce_schema import (
    CAMPAIGN_OBJECT,
    CLIENT_OBJECT,
    EXTERNAL_ID,
    LIST_OBJECT,
    SUBSCRIBER_OBJECT,
    SUPPRESSION_OBJECT,
    TRACKING_OBJECT,
)

# Parents first, so a user browsing during the job sees whole clients change hands.
OWNED_OBJECTS = (
    CLIENT_OBJECT,
    LIST_OBJECT,
    CAMPAIGN_OBJECT,
    SUBSCRIBER_OBJECT,
    SUPPRESSION_OBJECT,
    TRACKING_OBJECT,
)
LABELS = {
    CLIENT_OBJECT: "client",
    LIST_OBJECT: "lists",
    CAMPAIGN_OBJECT: "campaigns",
    SUBSCRIBER_OBJECT: "subscribers",
    SUPPRESSION_OBJECT: "suppressions",
    TRACKING_OBJECT: "tracking history",
}
BATCH = 10_000
PASSES = 2
SAMPLES = 10


class Stopped(Exception):
    """The job was replaced or cancelled while running; the work done so far stands."""


@dataclass
class Batch:
    """One batch written: what the progress callback is told."""

    sobject: str
    succeeded: int
    failed: int
    samples: list[str] = field(default_factory=list)


def client_condition(sf: SalesforceClient, sobject: str, client_id: str) -> str:
    if sobject == CLIENT_OBJECT:
        return sf.soql(f"{EXTERNAL_ID} = {{}}", client_id)
    return sf.soql("CM_Client_ID__c = {}", client_id)


class ClientReowner:
    """Re-own one client's records; ``on_batch`` returns False to stop (the job was replaced)."""

    def __init__(
        self,
        sf: SalesforceClient,
        client_id: str,
        owner_id: str,
        *,
        on_batch: Callable[[Batch], bool],
        batch_size: int = BATCH,
    ) -> None:
        self.sf = sf
        self.client_id = client_id
        self.owner_id = owner_id
        self.on_batch = on_batch
        self.batch_size = batch_size
        self.failed = 0

    def remaining(self) -> dict[str, int]:
        """How many records of each object are not owned by the new owner (one COUNT each)."""
        return {
            sobject: self.sf.query_count(
                f"SELECT COUNT() FROM {sobject} WHERE {self._where(sobject)}"
            )
            for sobject in OWNED_OBJECTS
        }

    def run(self, remaining: dict[str, int]) -> None:
        """Walk every object with records left; once more if a concurrent write left some."""
        for attempt in range(PASSES):
            if attempt:
                if self.failed:
                    return  # refused records would be counted again: the job reports them
                remaining = self.remaining()
            todo = [sobject for sobject in OWNED_OBJECTS if remaining.get(sobject)]
            if not todo:
                return
            for sobject in todo:
                self._walk(sobject)

    def _where(self, sobject: str) -> str:
        owner = self.sf.soql("OwnerId != {}", self.owner_id)
        return f"{client_condition(self.sf, sobject, self.client_id)} AND {owner}"

    def _walk(self, sobject: str) -> None:
        last = ""
        while True:
            after = self.sf.soql(" AND Id > {}", last) if last else ""
            soql = (
                f"SELECT Id, {EXTERNAL_ID} FROM {sobject} WHERE {self._where(sobject)}{after} "
                f"ORDER BY Id LIMIT {self.batch_size}"
            )
            rows = list(self.sf.query_iter(soql))
            if not rows:
                return
            last = rows[-1]["Id"]
            self._write(sobject, rows)
            if len(rows) < self.batch_size:
                return

    def _write(self, sobject: str, rows: list[dict]) -> None:
        keyed = [row for row in rows if row.get(EXTERNAL_ID)]
        records = [{EXTERNAL_ID: row[EXTERNAL_ID], "OwnerId": self.owner_id} for row in keyed]
        results: list[RecordResult] = self.sf.upsert_bulk(sobject, EXTERNAL_ID, records)
        batch = Batch(sobject, 0, len(rows) - len(keyed))
        stubs: list[str] = []
        for result in results:
            if not result.success:
                batch.failed += 1
                if len(batch.samples) < SAMPLES:
                    batch.samples.append(f"{sobject} {result.key}: {result.error_text}")
            elif result.created and result.sf_id:
                stubs.append(result.sf_id)  # deleted since it was read: don't bring it back
            else:
                batch.succeeded += 1
        if stubs:
            self.sf.delete_collections(stubs)
        self.failed += batch.failed
        if not self.on_batch(batch):
            raise Stopped
