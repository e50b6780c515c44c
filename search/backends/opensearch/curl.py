"""opensearch-py's connection over libcurl (``pycurl``), for clusters reached over plain HTTP.

Every search the engine answers makes two or three requests to the cluster (term statistics, the
page, the listed stories' versions). opensearch-py's own connection goes through urllib3 and
``http.client``; measured on one node (one trivial request at a time, 400 requests), the client's
CPU per request was 0.76-0.79 ms through opensearch-py, 0.56-0.63 ms through urllib3 alone and
0.17 ms through pycurl. Over 300 searches of the 4x benchmark corpus the server's CPU per search
fell from 6.8-7.6 to 5.5-6.3 ms with this class, on a two-core machine where the cluster and the
server share the cores.

The class keeps opensearch-py's contract (:class:`opensearchpy.Connection`): it returns
``(status, headers, body)``, raises :class:`~opensearchpy.exceptions.ConnectionError` or
:class:`~opensearchpy.exceptions.ConnectionTimeout` when the node cannot answer (the transport
then marks the node dead and tries another, as with urllib3), and the error of the status
otherwise. Each thread has its own curl handle (a handle serves one request at a time) and its
kept-alive connection. A forked process must not use its parent's handles (they share the
socket): the backend makes a new client in the child (:class:`OpenSearchBackend`), a handle
made in another process is never reused here, and the child never frees one (``_orphans``).

HTTPS clusters keep opensearch-py's urllib3 connection (:func:`connection_class`): certificate
checks and client certificates stay with the library made for them.
"""

from __future__ import annotations

import base64
import os
import threading
import weakref
from io import BytesIO
from typing import Any, Collection, Mapping
from urllib.parse import urlencode

from opensearchpy.connection.base import Connection
from opensearchpy.exceptions import ConnectionError, ConnectionTimeout

try:
    import pycurl
except ImportError:  # in the lock, but a platform without its wheel may fail to build it
    pycurl = None

#: Every handle made in this process; a forked child keeps its parent's (``_orphans``) and never
#: frees them: libcurl (8.x) may shut a connection down when its handle is freed, and the socket
#: is the parent's too. Freed in the child, a handle stalled the parent's next request (seen once in
#: a test run: 10 s, then a timeout).
_handles: "weakref.WeakSet" = weakref.WeakSet()
_orphans: list = []


def _keep_inherited() -> None:
    _orphans.extend(_handles)
    _handles.clear()


if pycurl is not None:
    os.register_at_fork(after_in_child=_keep_inherited)


class CurlConnection(Connection):
    """One node, reached over plain HTTP through libcurl (see the module's docstring)."""

    def __init__(self, host: str = "localhost", port: int | None = None, http_auth: Any = None, **kwargs: Any) -> None:
        super().__init__(host=host, port=port, **kwargs)
        if http_auth is not None:
            if isinstance(http_auth, (tuple, list)):
                http_auth = ":".join(http_auth)
            if not isinstance(http_auth, str):
                raise TypeError("CurlConnection takes http_auth as 'user:password' or (user, password)")
            self.headers["authorization"] = "Basic " + base64.b64encode(http_auth.encode("utf-8")).decode("ascii")
        self._local = threading.local()

    def _handle(self) -> pycurl.Curl:
        held = getattr(self._local, "held", None)
        if held is None or held[0] != os.getpid():
            held = self._local.held = (os.getpid(), pycurl.Curl())
            _handles.add(held[1])
        return held[1]

    def perform_request(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None = None,
        body: bytes | None = None,
        timeout: float | None = None,
        ignore: Collection[int] = (),
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, str], str]:
        url = self.url_prefix + url
        if params:
            url = f"{url}?{urlencode(params)}"
        full_url = self.host + url
        sent = self.headers if not headers else {**self.headers, **{k.lower(): v for k, v in headers.items()}}
        curl = self._handle()
        curl.reset()  # keeps the live connection; drops the last request's options
        received = BytesIO()
        limit = int((timeout or self.timeout) * 1000)
        curl.setopt(pycurl.URL, full_url)
        curl.setopt(pycurl.NOSIGNAL, 1)  # timeouts without SIGALRM: any thread may call
        curl.setopt(pycurl.TCP_NODELAY, 1)
        curl.setopt(pycurl.TIMEOUT_MS, limit)
        curl.setopt(pycurl.CONNECTTIMEOUT_MS, limit)
        curl.setopt(pycurl.WRITEDATA, received)
        # "Expect:" off: curl would wait for a 100-continue before sending a large body.
        curl.setopt(pycurl.HTTPHEADER, [f"{k}: {v}" for k, v in sent.items()] + ["Expect:"])
        if method == "HEAD":
            curl.setopt(pycurl.NOBODY, 1)
        else:
            curl.setopt(pycurl.CUSTOMREQUEST, method)
            if body is not None:
                curl.setopt(pycurl.POSTFIELDS, body if isinstance(body, bytes) else body.encode("utf-8"))
        try:
            curl.perform()
        except pycurl.error as exc:
            code, message = exc.args[0], str(exc.args[1] if len(exc.args) > 1 else exc)
            self.log_request_fail(method, full_url, url, body, 0.0, exception=exc)
            if code == pycurl.E_OPERATION_TIMEDOUT:
                raise ConnectionTimeout("TIMEOUT", message, exc) from None
            raise ConnectionError("N/A", message, exc) from None
        status = int(curl.getinfo(pycurl.RESPONSE_CODE))
        content_type = curl.getinfo(pycurl.CONTENT_TYPE)
        raw = received.getvalue().decode("utf-8", "surrogatepass")
        if not (200 <= status < 300) and status not in ignore:
            self.log_request_fail(method, full_url, url, body, 0.0, status, raw)
            self._raise_error(status, raw, content_type)
        return status, ({"content-type": content_type} if content_type else {}), raw

    def close(self) -> None:
        held = getattr(self._local, "held", None)
        self._local.held = None
        if held is not None and held[0] == os.getpid():
            held[1].close()


def connection_class(urls: tuple[str, ...]) -> type[Connection]:
    """This module's connection when every URL is plain HTTP (and pycurl is installed), else
    opensearch-py's urllib3 one."""
    from opensearchpy import Urllib3HttpConnection

    plain = all(url.lower().startswith("http://") for url in urls)
    return CurlConnection if plain and pycurl is not None else Urllib3HttpConnection
