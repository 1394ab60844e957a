"""The HTTP plumbing of the fake forges: a threaded server, call recording, fault injection.

The forge-specific endpoints live in ``tests/forges/dialects.py`` and the git smart-HTTP
door in ``tests/forges/githttp.py``; this module owns the parts they share: the state of
every repository (issues, pull requests), the record of calls, and the queue of injected
failures. Everything is guarded by one lock, because the server answers each request in
its own thread.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["Call", "FakeIssue", "FakePull", "ForgeServer", "Reply", "Request"]

API_PREFIXES = {"gitee": "/api/v5", "github": "/api/v3", "gitlab": "/api/v4", "gitea": "/api/v1"}


@dataclass
class Call:
    """One request the server received, as the client sent it."""

    method: str
    path: str  # relative to the API prefix, percent-decoded per segment ("/repos/o/r/pulls")
    raw_path: str  # the request target exactly as sent, query included
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    content_type: str  # "form", "json", "" (no body) or the raw media type
    body: bytes
    fields: dict[str, Any]  # the form or JSON body as a dict (form values are strings)
    status: int = 0  # the status the server answered with


@dataclass
class FakeIssue:
    number: str
    title: str
    body: str
    state: str
    url: str
    id: int
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class FakePull:
    number: str
    title: str
    body: str
    head: str
    base: str
    state: str
    url: str
    id: int
    fields: dict[str, Any] = field(default_factory=dict)
    head_repo: str = ""  # full name of the repository the head branch is in ("" = the base)


@dataclass
class Request:
    method: str
    segments: list[str]  # decoded path segments after the API prefix
    raw_path: str
    query: dict[str, str]
    headers: dict[str, str]
    content_type: str
    body: bytes
    fields: dict[str, Any]
    base_url: str  # http://127.0.0.1:PORT

    @property
    def path(self) -> str:
        return "/" + "/".join(self.segments)


@dataclass
class Reply:
    status: int
    payload: Any = None  # JSON-able, or str for a plain-text body, or bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _RepoState:
    issues: list[FakeIssue] = field(default_factory=list)
    pulls: list[FakePull] = field(default_factory=list)
    next_number: int = 1  # shared issue/PR sequence (GitHub, Gitea)
    next_issue: int = 1  # GitLab iid / Gitee issue sequence
    next_pull: int = 1  # GitLab MR iid / Gitee PR sequence


@dataclass
class _Fault:
    path: str
    status: int
    headers: dict[str, str]
    body: Any
    method: str | None
    times: int
    effect: bool = False
    delay: float = 0.0


class ForgeServer:
    """A fake forge of one ``kind`` on 127.0.0.1, run in a thread.

    ``token`` is the only credential accepted. ``repos``, when given, are the only
    repositories that exist (others answer 404); by default every ``owner/name`` exists.
    ``git_root`` turns on git smart HTTP for bare repositories created by ``init_repo``.
    """

    def __init__(
        self,
        kind: str,
        *,
        token: str = "test-token",  # noqa: S107 - a fake credential for a fake forge
        login: str = "patch-bot",
        repos: Iterable[str] = (),
        git_root: Path | None = None,
    ) -> None:
        from tests.forges.dialects import make_dialect

        if kind not in API_PREFIXES:
            raise ValueError(f"unknown forge kind {kind!r}")
        self.kind = kind
        self.token = token
        self.login = login
        self.git_root = git_root
        self._known_repos = set(repos)
        self._strict_repos = bool(self._known_repos)
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._faults: list[_Fault] = []
        self._repos: dict[str, _RepoState] = {}
        self._next_id = 1000
        self._forks: dict[str, str] = {}  # fork full name -> parent full name
        self._fork_polls: dict[str, int] = {}  # fork -> lookups left before it is ready
        self._push_denied: set[str] = set()
        self._project_ids: dict[str, int] = {}
        #: Lookups of a new fork that still answer "git objects not there yet" (GitHub's
        #: branch lookup) or ``import_status: started`` (GitLab): the forge's background
        #: copy. Until they are used up, git access to the fork is refused too.
        self.fork_delay = 0
        self._dialect = make_dialect(kind, self)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle -------------------------------------------------------------------
    def start(self) -> ForgeServer:
        handler = type("Handler", (_Handler,), {"forge": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ForgeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ----------------------------------------------------------------------
    @property
    def web_url(self) -> str:
        """Root of the fake (what ``[forges.<name>] web_url`` should be)."""
        if self._httpd is None:
            raise RuntimeError("server not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return self.web_url + API_PREFIXES[self.kind]

    def repo_url(self, full_name: str) -> str:
        """The web URL of a repository, as a user would give it as the downstream ``repo``."""
        return f"{self.web_url}/{full_name}"

    def forge_settings(self) -> Any:
        """A ``ForgeSettings`` pointing at this fake (kind, web_url, api_url, token)."""
        from pydantic import SecretStr

        from repotrack.config import ForgeSettings

        return ForgeSettings(
            kind=self.kind,  # type: ignore[arg-type]
            web_url=self.web_url,
            api_url=self.api_url,
            token=SecretStr(self.token),
            username=self.login,
        )

    # -- what was created -------------------------------------------------------------
    def issues(self, full_name: str) -> list[FakeIssue]:
        """Issues of a repository, oldest first (copies)."""
        with self._lock:
            state = self._repos.get(full_name)
            return [FakeIssue(**vars(i)) for i in state.issues] if state else []

    def pulls(self, full_name: str) -> list[FakePull]:
        """Pull (merge) requests of a repository, oldest first (copies)."""
        with self._lock:
            state = self._repos.get(full_name)
            return [FakePull(**vars(p)) for p in state.pulls] if state else []

    def init_repo(self, full_name: str, *, branch: str = "master") -> Path:
        """Create an empty bare repository served over git smart HTTP (needs ``git_root``).

        Its clone URL is ``<web_url>/<full_name>.git``; fetches are anonymous, pushes need
        Basic auth with the token as the password.
        """
        from tests.forges.githttp import init_repo

        return init_repo(self, full_name, branch=branch)

    def repo_path(self, full_name: str) -> Path:
        """The bare repository behind ``<web_url>/<full_name>.git``."""
        from tests.forges.githttp import repo_path

        return repo_path(self, full_name)

    def add_repo(self, full_name: str) -> None:
        with self._lock:
            self._known_repos.add(full_name)

    # -- forks and push rights ------------------------------------------------------------
    def deny_push(self, full_name: str) -> None:
        """Refuse git pushes to ``full_name`` with 403 (a token without write access)."""
        with self._lock:
            self._push_denied.add(full_name)

    def push_denied(self, full_name: str) -> bool:
        with self._lock:
            return full_name in self._push_denied

    def forks(self) -> dict[str, str]:
        """Every fork made so far: fork full name -> parent full name."""
        with self._lock:
            return dict(self._forks)

    def fork_parent(self, full_name: str) -> str | None:
        with self._lock:
            return self._forks.get(full_name)

    def make_fork(self, parent: str, owner: str) -> tuple[str, bool]:
        """Fork ``parent`` into ``owner``'s namespace (a bare clone when git is served).

        Returns the fork's full name and whether it was created now; a second request
        for the same fork returns the existing one, as the forges do.
        """
        name = parent.rsplit("/", 1)[1]
        full_name = f"{owner}/{name}"
        with self._lock:
            if full_name in self._forks:
                return full_name, False
        if self.git_root is not None:
            from tests.forges.githttp import clone_repo

            clone_repo(self, parent, full_name)
        with self._lock:
            self._known_repos.add(full_name)
            self._forks[full_name] = parent
            self._fork_polls[full_name] = self.fork_delay
        return full_name, True

    def add_plain_repo(self, full_name: str) -> None:
        """A repository that exists and is not a fork (a name clash for fork mode)."""
        with self._lock:
            self._known_repos.add(full_name)

    def fork_copying(self, full_name: str) -> bool:
        """Whether the fork's background copy still runs; each call is one lookup."""
        with self._lock:
            left = self._fork_polls.get(full_name, 0)
            if left <= 0:
                return False
            self._fork_polls[full_name] = left - 1
            return True

    def fork_still_copying(self, full_name: str) -> bool:
        """Whether the fork's background copy still runs, without counting a lookup
        (git access to the fork, which a readiness poll must not be needed to end)."""
        with self._lock:
            return self._fork_polls.get(full_name, 0) > 0

    def project_id(self, full_name: str) -> int:
        """A stable numeric id per repository (GitLab's project ``id``)."""
        with self._lock:
            if full_name not in self._project_ids:
                self._project_ids[full_name] = 7 + len(self._project_ids)
            return self._project_ids[full_name]

    def add_issue(self, full_name: str, *, title: str, body: str, state: str = "open") -> FakeIssue:
        """Seed an issue as if a human had opened it (pagination and matching tests)."""
        if state == "open":
            state = self._dialect.open_state  # GitLab says "opened"
        return self._dialect.seed_issue(full_name, title=title, body=body, state=state)

    def add_pull(
        self, full_name: str, *, title: str, body: str, head: str, base: str, state: str = "open"
    ) -> FakePull:
        if state == "open":
            state = self._dialect.open_state
        return self._dialect.seed_pull(
            full_name, title=title, body=body, head=head, base=base, state=state
        )

    def set_state(self, full_name: str, number: str, state: str) -> None:
        """Close (or reopen) an issue or pull request by number."""
        with self._lock:
            repo = self._repos[full_name]
            for item in [*repo.issues, *repo.pulls]:
                if item.number == str(number):
                    item.state = state

    # -- calls and faults ---------------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str, path: str) -> list[Call]:
        """Recorded calls with this method and API-relative path (query ignored)."""
        return [c for c in self.calls if c.method == method and c.path == path]

    def reset_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def fail_next(
        self,
        path: str,
        status: int,
        headers: dict[str, str] | None = None,
        *,
        body: Any = None,
        method: str | None = None,
        times: int = 1,
        effect: bool = False,
        delay: float = 0.0,
    ) -> None:
        """Answer the next ``times`` requests to ``path`` with ``status`` and ``headers``.

        ``path`` is relative to the API prefix (``/repos/o/r/pulls``); the query is
        ignored. A 429 with ``{"Retry-After": "1"}`` simulates a throttle, a 500 a crash.
        With ``effect=True`` the request is carried out first and only its answer is
        replaced (a proxy 502 after the issue was created); ``delay`` holds the answer
        back that many seconds (a read timeout).
        """
        if body is None:
            body = {"message": f"injected {status}"}
        with self._lock:
            self._faults.append(
                _Fault(path, status, dict(headers or {}), body, method, times, effect, delay)
            )

    def clear_faults(self) -> None:
        """Drop injected failures that no request has used up yet."""
        with self._lock:
            self._faults.clear()

    # -- used by the dialects and the handler -----------------------------------------
    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.path == path and fault.method in (None, method):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def repo_exists(self, full_name: str) -> bool:
        """Known repositories; without a list, any ``owner/name`` except in the token
        owner's own namespace, which holds only the forks (and repositories) made there."""
        with self._lock:
            if full_name in self._known_repos:
                return True
            own = full_name.split("/", 1)[0] == self.login
            return not self._strict_repos and not own

    def locked(self) -> threading.Lock:
        return self._lock

    def repo_state(self, full_name: str) -> _RepoState:
        """The mutable state of a repository; call with ``locked()`` held."""
        return self._repos.setdefault(full_name, _RepoState())

    def new_id(self) -> int:
        """A global object id; call with ``locked()`` held."""
        self._next_id += 1
        return self._next_id

    def dispatch(self, request: Request) -> Reply:
        return self._dialect.dispatch(request)

    def all_repos(self) -> Iterator[str]:
        with self._lock:
            yield from list(self._repos)


class _Handler(BaseHTTPRequestHandler):
    forge: ForgeServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the calls are recorded, not printed."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        forge = self.forge
        body = self._read_body()
        split = urllib.parse.urlsplit(self.path)
        if forge.git_root is not None and ".git/" in split.path:
            from tests.forges.githttp import serve_git

            reply = serve_git(forge, self.command, split, dict(self.headers.items()), body)
            self._send(reply)
            return
        prefix = API_PREFIXES[forge.kind]
        headers = {k.lower(): v for k, v in self.headers.items()}
        kind, fields = _parse_body(headers.get("content-type", ""), body)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(split.query, True).items()}
        if not split.path.startswith(prefix + "/") and split.path != prefix:
            segments = None
        else:
            tail = split.path[len(prefix) :].strip("/")
            segments = [urllib.parse.unquote(s) for s in tail.split("/")] if tail else []
        request = Request(
            method=self.command,
            segments=segments or [],
            raw_path=self.path,
            query=query,
            headers=headers,
            content_type=kind,
            body=body,
            fields=fields,
            base_url=forge.web_url,
        )
        call = Call(self.command, request.path, self.path, query, headers, kind, body, fields)
        fault = forge._take_fault(self.command, request.path)
        if fault is None or fault.effect:
            if segments is None:
                reply = Reply(404, {"message": "Not Found"})
            else:
                try:
                    reply = forge.dispatch(request)
                except Exception as exc:  # a bug in the fake must show, not hang the client
                    reply = Reply(500, {"message": f"fake forge error: {exc!r}"})
        if fault is not None:
            reply = Reply(fault.status, fault.body, dict(fault.headers))
        call.status = reply.status
        forge._record(call)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        if isinstance(reply.payload, bytes):
            data = reply.payload
            ctype = reply.headers.pop("Content-Type", "application/octet-stream")
        elif isinstance(reply.payload, str):
            data = reply.payload.encode()
            ctype = reply.headers.pop("Content-Type", "text/plain; charset=utf-8")
        elif reply.payload is None:
            data = b""
            ctype = ""
        else:
            data = json.dumps(reply.payload).encode()
            ctype = "application/json; charset=utf-8"
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if ctype:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout test)


def _parse_body(content_type: str, body: bytes) -> tuple[str, dict[str, Any]]:
    """Classify and decode a request body: ("form"|"json"|""|media type, fields)."""
    media = content_type.split(";")[0].strip().lower()
    if not body:
        return ("", {})
    if media == "application/x-www-form-urlencoded":
        pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        return ("form", dict(pairs))
    if media == "application/json":
        try:
            value = json.loads(body)
        except ValueError:
            return ("json", {"__invalid__": True})
        return ("json", value if isinstance(value, dict) else {"__array__": value})
    return (media or "unknown", {})
