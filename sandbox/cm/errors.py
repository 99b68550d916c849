"""Campaign Monitor's error envelope (``{"Code": ..., "Message": ...}``) and the codes we use.

Statuses follow the reference notes: input errors are 400, authentication failures and IDs the
caller does not own (or that do not exist) are 401 with a resource code (101 list, 102 client,
301 campaign), an unknown route after authentication is 404.
"""

from __future__ import annotations

from typing import Any

from sandbox.core.http import Response


class CMError(Exception):
    """Raised by handlers; the app turns it into CM's JSON error body."""

    def __init__(
        self, status: int, code: int, message: str, result_data: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.result_data = result_data

    def response(self, headers: dict[str, str] | None = None) -> Response:
        if self.result_data is not None:
            body: dict[str, Any] = {
                "ResultData": self.result_data,
                "Code": self.code,
                "Message": self.message,
            }
        else:
            body = {"Code": self.code, "Message": self.message}
        return Response.json(body, status=self.status, headers=headers)


def bad_request(code: int, message: str, result_data: dict[str, Any] | None = None) -> CMError:
    return CMError(400, code, message, result_data)


def invalid_api_key() -> CMError:
    return CMError(401, 100, "Invalid API Key")


def invalid_token() -> CMError:
    return CMError(401, 120, "Invalid OAuth Token")


def expired_token() -> CMError:
    return CMError(401, 121, "Expired OAuth Token")


def revoked_token() -> CMError:
    return CMError(401, 122, "Revoked OAuth Token")


def invalid_list() -> CMError:
    return CMError(401, 101, "Invalid ListID")


def invalid_client() -> CMError:
    return CMError(401, 102, "Invalid ClientID")


def invalid_campaign() -> CMError:
    return CMError(401, 301, "Invalid CampaignID")


def malformed_body(fields: str = "request") -> CMError:
    return CMError(
        400,
        400,
        "Failed to deserialize your request. Please check the documentation and try again. "
        f"Fields in error: {fields}",
    )


INVALID_EMAIL = (1, "Invalid Email Address")
INVALID_DATE = (5, "Invalid Date")
ALREADY_SUBSCRIBED = (201, "New Email Address is already subscribed to the list")
NOT_IN_LIST = (203, "Subscriber not in list")
IN_SUPPRESSION_LIST = (204, "In Suppression List")
IS_DELETED = (205, "Is Deleted")
IS_UNSUBSCRIBED = (206, "Is Unsubscribed")
IS_BOUNCED = (207, "Is Bounced")
TOO_MANY_IN_IMPORT = (
    209,
    "Too many subscribers in this batch. You can only add 1000 subscribers in one call",
)
IMPORT_FAILURES = (210, "Subscriber Import had some failures")
INVALID_NEW_EMAIL = (211, "Invalid New Email Address")
EMPTY_IMPORT = (212, "No subscribers were provided in this batch")
CONSENT_MISSING = (214, "Please provide a consent to track value")
CONSENT_INVALID = (215, "Please provide a valid consent to track value")
INVALID_MOBILE = (220, "Invalid mobile number")
INVALID_EMAIL_AND_MOBILE = (221, "Invalid email address and mobile number")
SMS_CONSENT_INVALID = (222, "Please provide a valid consent to send SMS value")
PAGE_INVALID = (800, "Invalid page number")
PAGE_SIZE_INVALID = (801, "Invalid page size")
ORDER_FIELD_INVALID = (802, "Invalid order field")
ORDER_DIRECTION_INVALID = (803, "Invalid order direction")


def error(pair: tuple[int, str], status: int = 400) -> CMError:
    return CMError(status, pair[0], pair[1])
