"""A scriptable local HTTP server standing in for api.tardis.dev and datasets.tardis.dev in tests.

Each path has a queue of behaviours, consumed one per request (the last one repeats):

* ``Serve(body)`` — 200 with the body, or 206 with the requested tail when the request has a Range;
* ``Status(code, headers)`` — an error status such as 429 with ``Retry-After``, or 404;
* ``Drop(body, cut)`` — announces the whole body (Content-Length) but closes the connection after
  ``cut`` bytes, like a dropped connection mid-download (honouring Range like ``Serve``).

Every request is recorded (method, path, headers) so tests can check Range and Authorization headers.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Serve:
    body: bytes
    honour_range: bool = True


@dataclass(frozen=True)
class Status:
    code: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class Drop:
    body: bytes
    cut: int


Behaviour = Serve | Status | Drop


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]


@dataclass
class Script:
    routes: dict[str, list[Behaviour]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self, path: str) -> Behaviour | None:
        with self.lock:
            queue = self.routes.get(path)
            if not queue:
                return None
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def requests_for(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]


_RANGE = re.compile(r"bytes=(\d+)-$")


def _handler(script: Script) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # keep test output clean
            return

        def do_GET(self) -> None:
            with script.lock:
                script.requests.append(Request(self.path, {k.lower(): v for k, v in self.headers.items()}))
            behaviour = script.next(self.path)
            if behaviour is None:
                self._send(404, b"not found", {})
                return
            if isinstance(behaviour, Status):
                self._send(behaviour.code, behaviour.body, behaviour.headers)
                return
            body = behaviour.body
            start = 0
            match = _RANGE.match(self.headers.get("Range", ""))
            ranged = match is not None and (not isinstance(behaviour, Serve) or behaviour.honour_range)
            if ranged and match is not None:
                start = int(match.group(1))
                if start >= len(body):
                    self._send(416, b"", {"Content-Range": f"bytes */{len(body)}"})
                    return
            payload = body[start:]
            self.send_response(206 if ranged else 200)
            self.send_header("Content-Type", "application/gzip")
            self.send_header("Content-Length", str(len(payload)))
            if ranged:
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            self.end_headers()
            if isinstance(behaviour, Drop):
                self.wfile.write(payload[: behaviour.cut])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)  # the peer sees the connection end mid-body
                return
            self.wfile.write(payload)

        def _send(self, code: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(code)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def serve(script: Script) -> Iterator[str]:
    """Run the server in a thread; yields its base URL (``http://127.0.0.1:PORT``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(script))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
