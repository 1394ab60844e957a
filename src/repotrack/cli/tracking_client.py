"""The HTTP door of the tracking CLI: one httpx client, timeouts, TLS verification.

The original CLI disabled certificate checks, hid the warning and set no timeouts
(reference §4, §10.3). Here TLS is verified by default against the system store or a
given CA file (``--cacert``); ``--insecure`` is an explicit opt-out. Every request has
a timeout. Transport failures become ``UpstreamError`` naming the server URL, with a
hint when the failure is certificate verification.
"""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from repotrack import __version__
from repotrack.errors import InputError, UpstreamError

if TYPE_CHECKING:  # only annotated here: a load's hand-off, which uses this module's
    # helpers, need not import the item files' YAML reader (0.02 s)
    from repotrack.tracking.item_files import TrackingItem

__all__ = [
    "CONNECT_TIMEOUT",
    "READ_TIMEOUT",
    "SUCCESS",
    "Reply",
    "TrackingClient",
    "plain_http",
    "server_base_url",
    "tls_verify",
    "transport_reason",
]

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
#: The envelope code of a successful call (reference §2.1).
SUCCESS = "2001"
NOT_FOUND_FOR_DELETE = "6005"
TABLES = ("tracking", "issue")


def server_base_url(server: str) -> str:
    """``host:port`` (https assumed, as in the original) or a full ``http(s)://`` URL."""
    text = server.strip().rstrip("/")
    if "://" not in text:
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # an unclosed IPv6 bracket, for one
        raise InputError(f"malformed server URL {server!r}: {exc}", field="--server") from exc
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InputError(f"expected host:port or an https:// URL, got {server!r}", field="--server")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise InputError("the server URL must not carry credentials or a query", field="--server")
    try:
        parts.port  # noqa: B018 - validates the port number
    except ValueError as exc:
        raise InputError(f"bad port in {server!r}", field="--server") from exc
    return text


def tls_verify(
    *, cacert: Path | None, insecure: bool, url: str | None = None
) -> ssl.SSLContext | bool:
    """What httpx should verify against: the system store, ``cacert``, or nothing.

    For a plain ``http://`` service ``url`` no certificate is ever checked, and
    loading the system store would cost 36-46 ms of CPU at each command's start:
    such a client gets a context that trusts no certificate, so that a TLS
    connection it were led to (an absolute ``https://`` link in an answer) fails
    rather than goes unchecked.
    """
    if insecure:
        if cacert is not None:
            raise InputError("--cacert and --insecure exclude each other", field="--insecure")
        return False
    if cacert is None and url is not None and plain_http(url):
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, against no CA at all
    if cacert is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=str(cacert))
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(f"cannot load CA certificates: {reason}", path=str(cacert)) from exc


def plain_http(url: str) -> bool:
    """Whether ``url`` is ``http://`` (no TLS, so no certificate to check)."""
    return urlsplit(url).scheme == "http"


@dataclass(frozen=True)
class Reply:
    """A server answer: HTTP status, raw text, and the ``{code, msg, data}`` envelope."""

    status: int
    text: str
    code: str | None = None
    msg: str | None = None
    data: Any = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.code == SUCCESS

    @property
    def unauthorized(self) -> bool:
        return self.status in (401, 403)


class TrackingClient:
    """Calls ``/tracking`` and ``/issue`` on a patch-tracking compatible server."""

    def __init__(
        self,
        base_url: str,
        *,
        verify: ssl.SSLContext | bool = True,
        user: str | None = None,
        password: str | None = None,
    ) -> None:
        self.base_url = base_url
        auth = httpx.BasicAuth(user, password) if user is not None and password else None
        self._http = httpx.Client(
            base_url=base_url,
            verify=verify,
            auth=auth,
            timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
            headers={"User-Agent": f"repotrack/{__version__}"},
            follow_redirects=False,
        )

    def __enter__(self) -> TrackingClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def probe(self) -> Reply:
        """``HEAD /``: the original counts 200 and 404 as "the service is up"."""
        return self._send("HEAD", "/")

    def add(self, item: TrackingItem) -> Reply:
        return self._send("POST", "/tracking", json=item.to_json())

    def delete(self, *, repo: str, branch: str | None) -> Reply:
        params = {"repo": repo} if branch is None else {"repo": repo, "branch": branch}
        return self._send("DELETE", "/tracking", params=params)

    def query(self, table: str, *, repo: str | None = None, branch: str | None = None) -> Reply:
        if table not in TABLES:
            raise InputError(f"table must be tracking or issue, got {table!r}", field="--table")
        params = {k: v for k, v in (("repo", repo), ("branch", branch)) if v is not None}
        return self._send("GET", f"/{table}", params=params)

    def _send(self, method: str, path: str, **kwargs: Any) -> Reply:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise UpstreamError(transport_reason(exc), url=self.base_url) from exc
        return _reply(response)


def _reply(response: httpx.Response) -> Reply:
    text = response.text
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    if isinstance(body, dict) and "code" in body:
        return Reply(
            response.status_code, text, str(body["code"]), body.get("msg"), body.get("data")
        )
    return Reply(response.status_code, text)


#: What OpenSSL reports when the other side answers a TLS hello in plain HTTP.
_PLAIN_HTTP_REPLIES = {"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "HTTP_REQUEST"}


def transport_reason(exc: httpx.HTTPError) -> str:
    """Why a request got no answer, in one line (with a hint for certificate failures)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return (
                f"TLS certificate verification failed ({cause.verify_message}); trust the "
                "server's certificate with --cacert FILE, or pass --insecure"
            )
        if isinstance(cause, ssl.SSLError) and _PLAIN_HTTP_REPLIES & {
            str(cause.reason),
            str(cause),
        }:
            return (
                f"TLS handshake failed ({cause.reason}): the server speaks plain HTTP; "
                "use an http:// URL for --server"
            )
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within the timeout ({type(exc).__name__})"
    return str(exc) or type(exc).__name__
