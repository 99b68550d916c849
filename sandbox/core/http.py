"""The HTTP(S) harness shared by the Campaign Monitor and Salesforce sandboxes.

Each sandbox is a :class:`SandboxApp` with a :class:`Router`; :class:`SandboxServer` serves one
app over TLS on 127.0.0.1 in a background thread (tests) or in the foreground (``run_sandbox``).
The harness owns what both vendors share: per-endpoint call counts, injected faults, held calls
(:mod:`.holds`), the ``/__sandbox__/stats``, ``/__sandbox__/faults`` and ``/__sandbox__/holds``
endpoints, and the rule that an unexpected exception answers a plain 500 without a traceback.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .faults import CALL_KINDS, FaultInjector, FaultSpecError, rules_from_json
from .holds import Holds
from .tls import ensure_certificates

logger = logging.getLogger(__name__)


class CaseInsensitiveDict(dict):
    """A dict whose string keys match regardless of case (CM matches query and body keys so)."""

    def __init__(self, data: Any = None) -> None:
        super().__init__()
        self._keys: dict[str, str] = {}
        for key, value in (data or {}).items():
            self[key] = value

    def __setitem__(self, key: str, value: Any) -> None:
        lower = key.lower()
        if lower in self._keys and self._keys[lower] != key:
            super().__delitem__(self._keys[lower])
        self._keys[lower] = key
        super().__setitem__(key, value)

    def _real(self, key: str) -> str:
        return self._keys.get(key.lower(), key)

    def __getitem__(self, key: str) -> Any:
        return super().__getitem__(self._real(key))

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._keys

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(self._real(key), default)


@dataclass
class Request:
    method: str
    path: str
    query: CaseInsensitiveDict
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    endpoint: str = "unknown"
    client_address: str = ""

    def header(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return default

    def json(self) -> Any:
        """The decoded JSON body; raises ValueError on malformed JSON."""
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"))

    def form(self) -> CaseInsensitiveDict:
        return CaseInsensitiveDict(
            dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))
        )


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        merged = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        return cls(status=status, body=json.dumps(data).encode("utf-8"), headers=merged)

    @classmethod
    def text(
        cls, text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8"
    ) -> Response:
        return cls(status=status, body=text.encode("utf-8"), headers={"Content-Type": content_type})

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Response:
        return cls(status=status, headers={"Location": location})


Handler = Callable[[Request], Response]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    name: str


class Router:
    """Maps METHOD + path templates such as ``/api/v3.3/lists/{listid}.json`` to handlers."""

    def __init__(self, case_insensitive: bool = False) -> None:
        self.routes: list[Route] = []
        self._flags = re.IGNORECASE if case_insensitive else 0

    def add(self, method: str, template: str, handler: Handler, name: str) -> None:
        regex = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+?)", re.escape(template)) + "$"
        self.routes.append(Route(method.upper(), re.compile(regex, self._flags), handler, name))

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """Return (route, path params, path_exists_for_another_method)."""
        path_known = False
        for route in self.routes:
            found = route.pattern.match(path)
            if not found:
                continue
            path_known = True
            if route.method == method.upper():
                return route, found.groupdict(), True
        return None, {}, path_known


class SandboxApp:
    """Base for a vendor sandbox: subclasses fill ``self.router`` and override the hooks."""

    name = "sandbox"

    def __init__(self, faults: FaultInjector | None = None) -> None:
        self.faults = faults or FaultInjector()
        self.holds = Holds()
        self.stats: Counter[str] = Counter()
        self.stats_lock = threading.Lock()
        self.router = Router()
        self.base_url = ""

    # Hooks -----------------------------------------------------------------------------------
    def fault_response(self, kind: str, request: Request) -> Response:
        """The vendor-shaped answer for an injected 500 / 503 / 429."""
        retry = str(self.faults.settings.retry_after)
        headers = {"Retry-After": retry} if kind == "429" else {}
        return Response.json(
            {"message": f"sandbox fault {kind}"}, status=int(kind), headers=headers
        )

    def not_found(self, request: Request) -> Response:
        return Response.json({"message": "Not found"}, status=404)

    def method_not_allowed(self, request: Request) -> Response:
        return Response.json({"message": "Method not allowed"}, status=405)

    def server_error(self, request: Request) -> Response:
        return Response.json({"message": "Internal server error"}, status=500)

    def authenticate(self, request: Request) -> Response | None:
        """Return an error response if the call is not authorised (checked before routing)."""
        return None

    def is_public(self, request: Request) -> bool:
        """Paths that need no auth (OAuth pages and token endpoints)."""
        return False

    def handle_sandbox(self, request: Request, action: str) -> Response | None:
        """Vendor-specific ``/__sandbox__/<action>`` endpoints; None means unknown."""
        return None

    # Dispatch --------------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response | None:
        """Answer a request; None means: drop the connection without answering."""
        if request.path.startswith("/__sandbox__/"):
            return self._sandbox_endpoint(request)
        route, params, path_known = self.router.match(request.method, request.path)
        request.endpoint = route.name if route else "unknown"
        request.params = params
        with self.stats_lock:
            self.stats[request.endpoint] += 1
        self.holds.park(request.endpoint, request.path, "before")
        fault = self.faults.pick(request.endpoint, request.path, CALL_KINDS)
        if fault == "drop":
            return None
        if fault == "slow":
            time.sleep(self.faults.settings.slow_seconds)
        elif fault and fault != "timeout":
            return self.fault_response(fault, request)
        if not self.is_public(request):
            denied = self.authenticate(request)
            if denied is not None:
                return denied
        if route is None:
            return self.method_not_allowed(request) if path_known else self.not_found(request)
        response = route.handler(request)
        self.holds.park(request.endpoint, request.path, "after")
        if fault == "timeout":  # the work is done; the answer never arrives
            time.sleep(self.faults.settings.timeout_seconds)
            return None
        return response

    def _sandbox_endpoint(self, request: Request) -> Response:
        action = request.path[len("/__sandbox__/") :].strip("/")
        if action == "stats" and request.method == "GET":
            with self.stats_lock:
                return Response.json({"calls": dict(self.stats), "total": sum(self.stats.values())})
        if action == "stats" and request.method == "DELETE":
            with self.stats_lock:
                self.stats.clear()
            return Response(status=204)
        if action == "faults" and request.method == "GET":
            return Response.json(
                {**self.faults.settings.to_json(), "injected": self.faults.injected()}
            )
        if action == "faults" and request.method == "PUT":
            try:
                self.faults.replace(rules_from_json(request.json()))
            except (ValueError, FaultSpecError) as exc:
                return Response.json({"error": str(exc)}, status=400)
            return Response.json(self.faults.settings.to_json())
        if action == "holds":
            return self._holds_endpoint(request)
        answer = self.handle_sandbox(request, action)
        return answer if answer is not None else Response.json({"error": "unknown"}, status=404)

    def _holds_endpoint(self, request: Request) -> Response:
        if request.method == "PUT":
            try:
                payload = request.json() or {}
                self.holds.arm(
                    str(payload["endpoint"]),
                    int(payload.get("nth", 1)),
                    str(payload.get("when", "before")),
                )
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                return Response.json({"error": f"bad hold: {exc}"}, status=400)
        elif request.method == "DELETE":
            self.holds.release()
        return Response.json(self.holds.status())


def _make_handler(app: SandboxApp) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = f"cmsync-{app.name}-sandbox"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out as two writes; without TCP_NODELAY, Nagle's algorithm
            # and the client's delayed ACK add ~40 ms to every answer.
            try:
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            logger.debug("%s %s", app.name, format % args)

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            url = urlsplit(self.path)
            request = Request(
                method=self.command,
                path=url.path,
                query=CaseInsensitiveDict(dict(parse_qsl(url.query, keep_blank_values=True))),
                headers=dict(self.headers.items()),
                body=body,
                client_address=self.client_address[0],
            )
            try:
                response = app.dispatch(request)
            except Exception:  # a sandbox bug must never leak a traceback to the client
                logger.exception("%s sandbox failed on %s %s", app.name, self.command, url.path)
                response = app.server_error(request)
            if response is None:
                self.close_connection = True
                try:
                    self.connection.shutdown(2)
                except OSError:
                    pass
                return
            self.send_response(response.status)
            for key, value in response.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    return _Handler


class SandboxServer:
    """Serves one :class:`SandboxApp` over HTTPS on ``host:port`` (port 0 picks a free one)."""

    def __init__(self, app: SandboxApp, cert_dir: Path, host: str = "127.0.0.1", port: int = 0):
        self.app = app
        self.certificates = ensure_certificates(cert_dir)
        self.httpd = ThreadingHTTPServer((host, port), _make_handler(app))
        self.httpd.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.certificates.server_cert, self.certificates.server_key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.host = host
        self.port = self.httpd.server_address[1]
        self.app.base_url = self.url
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    @property
    def ca_file(self) -> Path:
        return self.certificates.ca_cert

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{self.app.name}-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)
