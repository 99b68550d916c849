"""Delivers list webhooks: CM POSTs ``{"Events": [...], "ListID": "..."}`` to the hook's URL.

Delivery happens on one background thread so an API call never waits for a receiver; failures
are ignored (CM retries for days and then deactivates the hook; the sandbox does not bother).
"""

from __future__ import annotations

import json
import logging
import queue
import ssl
import threading
import urllib.request
from typing import Any
from xml.sax.saxutils import escape

logger = logging.getLogger(__name__)

_STOP = object()


def payload_bytes(list_id: str, events: list[dict[str, Any]], payload_format: str) -> bytes:
    if payload_format.lower() == "xml":
        return _xml_payload(list_id, events)
    return json.dumps({"Events": events, "ListID": list_id}).encode("utf-8")


def _xml_payload(list_id: str, events: list[dict[str, Any]]) -> bytes:
    parts = ["<ListSubscriberEventsPayload><Events>"]
    for event in events:
        parts.append(f'<SubscriberEvent type="{escape(event["Type"])}">')
        for key, value in event.items():
            if key == "CustomFields":
                parts.append("<CustomFields>")
                for item in value:
                    parts.append(
                        f"<CustomField><Key>{escape(item['Key'])}</Key>"
                        f"<Value>{escape(item['Value'])}</Value></CustomField>"
                    )
                parts.append("</CustomFields>")
            elif key != "Type":
                parts.append(f"<{key}>{escape(str(value))}</{key}>")
        parts.append("</SubscriberEvent>")
    parts.append(f"</Events><ListID>{escape(list_id)}</ListID></ListSubscriberEventsPayload>")
    return "".join(parts).encode("utf-8")


def post_payload(url: str, body: bytes, payload_format: str, timeout: float = 5.0) -> int:
    """POST one payload; returns the HTTP status (raises on connection errors)."""
    content_type = "application/xml" if payload_format.lower() == "xml" else "application/json"
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": f"{content_type}; charset=utf-8", "User-Agent": "CreateSend"},
    )
    context = ssl.create_default_context()
    with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
        return response.status


class WebhookDispatcher:
    """A queue plus one daemon thread that POSTs payloads in order."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.delivered = 0
        self.failed = 0

    def enqueue(
        self, url: str, list_id: str, events: list[dict[str, Any]], payload_format: str
    ) -> None:
        self._ensure_thread()
        self._queue.put((url, payload_bytes(list_id, events, payload_format), payload_format))

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="cm-sandbox-webhooks", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                url, body, payload_format = item
                try:
                    post_payload(url, body, payload_format)
                    self.delivered += 1
                except Exception as exc:  # a receiver's trouble must never hurt the sandbox
                    self.failed += 1
                    logger.debug("webhook delivery failed: %s", type(exc).__name__)
            finally:
                self._queue.task_done()

    def wait_idle(self) -> None:
        """Block until every queued payload was attempted (tests)."""
        self._queue.join()

    def stop(self) -> None:
        with self._lock:
            thread = self._thread
            self._thread = None
        if thread is not None and thread.is_alive():
            self._queue.put(_STOP)
            thread.join(timeout=5)
