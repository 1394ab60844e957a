"""Handing a load to the running service: ``POST /api/v1/loads``, then follow the job.

Why: the embedded chDB store can be open in one process only. While ``repotrack
serve`` runs, the service owns it, so ``repotrack load repo`` (and ``repo_loader``)
cannot open it; instead they submit the job to the service, follow it (each
``GET`` asks the service to answer when the job ends, or after ``POLL_SECONDS`` with its
progress for the status line on a terminal), and end as a local load would:
the same summary line on stdout and exit 0, or the same ``TypeName: message`` line and
exit status.

Where the service is: ``--server`` (or ``$REPOTRACK_SERVER``), else the configured
``service.listen`` (a wildcard address means this machine's loopback), over https when
``service.certfile``/``keyfile`` are set. TLS is verified: against ``--cacert`` (or
``$REPOTRACK_CACERT``), else the system store plus the configured ``service.certfile``,
so a self-signed service certificate on this machine is trusted without options.
The account: ``--user`` / ``$REPOTRACK_USER`` (default ``service.user``) and
``--password`` / ``$REPOTRACK_PASSWORD``, the same names ``repotrack track`` uses.
The password is never printed or logged.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from repotrack import __version__
from repotrack.cli.common import err_console
from repotrack.config import Settings
from repotrack.errors import (
    AuthError,
    InputError,
    RepotrackError,
    StoreError,
    StoreLockedError,
    UpstreamError,
)
from repotrack.ingest.repo_request import RepoLoad

if TYPE_CHECKING:
    import ssl

    import httpx

    from repotrack.ingest.image import ImageLoad
    from repotrack.ingest.task_jobs import PackageLoadRequest, TaskCleanRequest, TaskLoadRequest
    from repotrack.ingest.vulns import VulnLoad

__all__ = [
    "POLL_SECONDS",
    "AnyLoadRequest",
    "Detached",
    "HandOff",
    "LoadRequest",
    "RemoteJobError",
    "ServiceOptions",
    "service_url",
    "store_held_elsewhere",
]

#: How long one ``GET`` of the job may be held by the service (``?wait=``): it answers
#: as soon as the job ends, so a load of known packages, which ends in a fraction of a
#: second, prints its line then rather than at the next poll; the progress shown on a
#: terminal is at most this old.
POLL_SECONDS = 0.5
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
#: Polls in a row that may fail (a busy or restarting service) before giving up.
MAX_POLL_FAILURES = 10
USER_ENV = "REPOTRACK_USER"
PASSWORD_ENV = "REPOTRACK_PASSWORD"  # noqa: S105 - a variable name, not a secret
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104 - mapped to loopback


def store_held_elsewhere(exc: StoreError) -> bool:
    """Whether opening the store failed because another process (the service) holds it."""
    return isinstance(exc, StoreLockedError)


#: What a repository load's hand-off sends: the same arguments a local load takes.
LoadRequest = RepoLoad
#: Any job a hand-off may send: a repository load, an image or ISO load, or a
#: task-side command.
AnyLoadRequest: TypeAlias = (
    "RepoLoad | ImageLoad | TaskLoadRequest | PackageLoadRequest | TaskCleanRequest | VulnLoad"
)


def request_body(request: AnyLoadRequest) -> dict[str, object]:
    """The ``POST /api/v1/loads`` body: the paths made absolute (the service reads them).

    The task-side and vulnerability requests make their own (``resolved``); they are
    told apart by that method rather than by their classes, whose modules a repository
    load's hand-off would otherwise import (0.02 s of its start).
    """
    resolved = getattr(request, "resolved", None)  # the task-side and vulnerability requests
    if resolved is not None:
        return dict(resolved().as_dict())
    plain = cast("RepoLoad | ImageLoad", request)
    body = plain.as_dict()
    body["branch"] = plain.branch.strip()
    body["path"] = str(plain.path.resolve())
    return body


@dataclass
class ServiceOptions:
    """Where the service is and how to log in, as given on the command line (or None)."""

    server: str | None = None
    cacert: Path | None = None
    insecure: bool = False
    user: str | None = None
    password: str | None = None

    def known_password(self) -> str | None:
        """The password from the option or ``$REPOTRACK_PASSWORD``; never prompts."""
        return self.password or os.environ.get(PASSWORD_ENV) or None


class RemoteJobError(RepotrackError):
    """The service ran the load and it failed; keeps the service's error type and exit status."""

    def __init__(self, type_name: str, message: str, exit_code: int) -> None:
        self.type_name = type_name
        self.exit_code = exit_code
        super().__init__(message)


class Detached(KeyboardInterrupt):
    """Ctrl-C while following a job: the CLI stops, the job goes on in the service."""

    def __init__(self, job_url: str) -> None:
        self.job_url = job_url
        super().__init__(f"interrupted: the load goes on in the service; follow it at {job_url}")


def service_url(settings: Settings) -> str:
    """The service's base URL from its settings: ``service.listen``, https with a certificate."""
    listen = settings.service.listen_address
    host = _WILDCARDS.get(listen.host, listen.host)
    tls = settings.service.certfile is not None and settings.service.keyfile is not None
    netloc = f"[{host}]:{listen.port}" if ":" in host else f"{host}:{listen.port}"
    return f"{'https' if tls else 'http'}://{netloc}"


@dataclass
class HandOff:
    """How a load face reaches the service; ``always`` is ``--via-service``.

    ``hint`` tells a user whose load met a locked store how to hand it over (each
    face names its own options). ``show`` prints a finished job's summary (the body's
    ``summary``) as the command prints a local result; by default, a repository load's
    summary line and the packages it left out.
    """

    settings: Settings
    options: ServiceOptions
    always: bool = False
    hint: str = "to hand the load to the service, set REPOTRACK_USER and REPOTRACK_PASSWORD"
    show: Callable[[dict[str, Any]], None] | None = None

    def base_url(self) -> str:
        from repotrack.cli.tracking_client import server_base_url

        if self.options.server:
            return server_base_url(self.options.server)
        return service_url(self.settings)

    def run(self, request: AnyLoadRequest) -> None:
        """``--via-service``: hand the load over (prompting for a password on a terminal)."""
        password = self.options.known_password() or _prompt_password()
        _Session(self, password).load(request)

    def after_lock(self, locked: StoreError, request: AnyLoadRequest) -> None:
        """The store is held elsewhere: hand the load over if we can log in, else say how."""
        password = self.options.known_password()
        if password is None:
            raise StoreError(f"{locked}; {self.hint}") from locked
        session = _Session(self, password)
        try:
            job = session.submit(request)
        except UpstreamError as exc:
            raise StoreError(f"{locked}; handing the load to the service failed: {exc}") from exc
        session.follow(job)


def _no_progress(_progress: dict[str, object]) -> None:
    return None


def _prompt_password() -> str:
    if not sys.stdin.isatty():
        raise InputError(
            f"a password is required: pass --password, set {PASSWORD_ENV}, "
            "or run in a terminal to be prompted",
            field="--password",
        )
    return getpass.getpass("Service password: ")


class _Session:
    """One hand-off: an httpx client on the service, the submit, and the polling."""

    def __init__(self, handoff: HandOff, password: str) -> None:
        self.base_url = handoff.base_url()
        self.user = (
            handoff.options.user or os.environ.get(USER_ENV) or handoff.settings.service.user
        )
        self._verify = service_tls_verify(handoff.settings, handoff.options, self.base_url)
        self._password = password
        self._show = handoff.show or _show_repo_summary

    def load(self, request: AnyLoadRequest) -> None:
        self.follow(self.submit(request))

    def submit(self, request: AnyLoadRequest) -> dict[str, Any]:
        with self._client() as http:
            job = self._call(http, "POST", "/api/v1/loads", json=request_body(request))
        err_console.print(
            f"handed the load to the repotrack service at {self.base_url}: job {job['id']}",
            markup=False,
            highlight=False,
        )
        return job

    def follow(self, job: dict[str, Any]) -> None:
        """Poll until the job ends; print its summary line, or raise its error."""
        path = str((job.get("links") or {}).get("self") or f"/api/v1/loads/{job['id']}")
        from repotrack.cli.progress import job_progress

        # An image job's progress counts MiB read, not packages: shown as a local image
        # load shows it, not at all.
        quiet = job.get("kind") in ("image", "iso")
        progress = contextlib.nullcontext(_no_progress) if quiet else job_progress(err_console)
        try:
            with self._client() as http, progress as show:
                while job["state"] in ("queued", "running"):
                    show(job.get("progress") or {})
                    asked = time.monotonic()
                    job = self._poll(http, path, params={"wait": POLL_SECONDS})
                    if job["state"] in ("queued", "running"):
                        # A service that does not hold the answer (older than ``wait``)
                        # is still asked only every POLL_SECONDS.
                        time.sleep(max(0.0, POLL_SECONDS - (time.monotonic() - asked)))
                show(job.get("progress") or {})
        except KeyboardInterrupt:
            raise Detached(f"{self.base_url}{path}") from None
        except UpstreamError as exc:
            raise UpstreamError(
                f"{exc}; the load may still be running: follow it at {self.base_url}{path}"
            ) from exc
        if job["state"] == "done":
            self._show(job["summary"])
            return
        error = job.get("error") or {}
        raise RemoteJobError(
            str(error.get("type") or "RepotrackError"),
            str(error.get("message") or f"job {job['id']} failed"),
            _exit_code(error.get("exit_code")),
        )

    def _poll(
        self, http: httpx.Client, path: str, params: dict[str, float] | None = None
    ) -> dict[str, Any]:
        for attempt in range(1, MAX_POLL_FAILURES + 1):
            try:
                return self._call(http, "GET", path, params=params)
            except UpstreamError:
                if attempt == MAX_POLL_FAILURES:
                    raise
                time.sleep(POLL_SECONDS)
        raise AssertionError("unreachable")

    def _client(self) -> httpx.Client:
        import httpx  # only a hand-off needs it; a local load never does

        return httpx.Client(
            base_url=self.base_url,
            verify=self._verify,
            auth=httpx.BasicAuth(self.user, self._password),
            timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
            headers={"User-Agent": f"repotrack/{__version__}"},
            follow_redirects=False,
        )

    def _call(self, http: httpx.Client, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        import httpx

        from repotrack.cli.tracking_client import transport_reason

        try:
            response = http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            reason = transport_reason(exc)
            raise UpstreamError(
                f"cannot reach the repotrack service: {reason}", url=self.base_url
            ) from exc
        return self._answer(response, method=method, path=path)

    def _answer(self, response: httpx.Response, *, method: str, path: str) -> dict[str, Any]:
        detail = answer_detail(response)
        status = response.status_code
        if status in (200, 202):
            with contextlib.suppress(ValueError):
                body = response.json()
                if isinstance(body, dict) and "state" in body and "id" in body:
                    return body
            raise UpstreamError(f"unexpected answer to {method} {path}", url=self.base_url)
        if status in (401, 403):
            raise AuthError(
                f"{self.base_url}: the service refused the account {self.user!r}; give the "
                f"right one with --user/--password or {USER_ENV}/{PASSWORD_ENV}"
            )
        if status == 422:
            raise InputError(f"the service refused the load: {detail}")
        if status == 404 and method == "POST":
            raise UpstreamError(
                "this service does not take load jobs (no /api/v1/loads); upgrade it",
                url=self.base_url,
            )
        if status == 404:
            raise UpstreamError(
                f"the service no longer knows {path} (was it restarted?)", url=self.base_url
            )
        raise UpstreamError(f"HTTP {status} for {method} {path}: {detail}", url=self.base_url)


def _show_repo_summary(summary: dict[str, Any]) -> None:
    from repotrack.cli.load import print_summary

    bad = [(item["file"], item["reason"]) for item in summary.get("bad", [])]
    print_summary(summary["line"], bad)


def service_tls_verify(
    settings: Settings, options: ServiceOptions, url: str
) -> ssl.SSLContext | bool:
    """``--cacert``/``--insecure`` as given; else the system store plus the service's own
    certificate when this machine's settings name one (a self-signed pair, typically).
    A plain ``http://`` ``url`` checks no certificate (``tls_verify``)."""
    import ssl  # here: 0.01 s that a load without a hand-off need not pay

    from repotrack.cli.tracking_client import plain_http, tls_verify

    verify = tls_verify(cacert=options.cacert, insecure=options.insecure, url=url)
    if plain_http(url):
        return verify
    certfile = settings.service.certfile
    if isinstance(verify, ssl.SSLContext) and options.cacert is None and certfile is not None:
        with contextlib.suppress(OSError, ssl.SSLError):  # unreadable: the system store only
            verify.load_verify_locations(cafile=str(certfile))
    return verify


def answer_detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return str(body["detail"])
    text = response.text.strip().splitlines()
    return text[0][:200] if text else response.reason_phrase


def _exit_code(value: Any) -> int:
    return value if isinstance(value, int) and 1 <= value <= 255 else 1
