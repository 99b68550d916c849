"""Salesforce's error shapes, shared by every resource of the sandbox org."""

from __future__ import annotations

from typing import Any


class SfError(Exception):
    """A Salesforce error: ``errorCode``/``statusCode``, message, fields and the HTTP status.

    ``request_level`` errors (malformed JSON values, unknown fields) fail a whole collections
    request with HTTP 400, as Salesforce's deserialiser does, instead of a single item.
    """

    def __init__(
        self,
        code: str,
        message: str,
        fields: list[str] | tuple[str, ...] = (),
        status: int = 400,
        request_level: bool = False,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = list(fields)
        self.status = status
        self.request_level = request_level

    def rest(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields:
            body["fields"] = self.fields
        return body

    def item(self) -> dict[str, Any]:
        return {"statusCode": self.code, "message": self.message, "fields": self.fields}

    def bulk(self) -> str:
        """The ``sf__Error`` text of a Bulk API 2.0 failed row: ``CODE:message:fields --``."""
        return f"{self.code}:{self.message}:{','.join(self.fields)} --"
