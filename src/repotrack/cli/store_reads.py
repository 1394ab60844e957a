"""Reading the analytics store from the CLI whether or not ``repotrack serve`` runs.

Why: the embedded chDB store opens in one process only. While the service runs it owns
the store, so a ``query`` or ``db status`` that cannot open it asks the service instead
(``GET /api/v1/...``, the routes that serve the same core functions), and prints the same
thing a local read prints: both paths hand the renderer the same plain data
(``store.to_plain`` of the result, which is what the routes answer).

A chDB store that was never initialised is an error naming it, and reading does not
create its directory (a typo in ``--store`` must not leave an empty store behind).

Where the service is and how to log in: as for load hand-offs (``load_remote``): the
configured ``service.listen``, ``$REPOTRACK_USER``/``$REPOTRACK_PASSWORD`` when the
service requires an account for reads.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote, urlsplit

from repotrack.errors import (
    AuthError,
    InputError,
    NotFoundError,
    StoreError,
    StoreLockedError,
    UpstreamError,
)

if TYPE_CHECKING:
    from repotrack.config import Settings
    from repotrack.store import Store

__all__ = ["ServiceReader", "from_plain", "open_existing_store", "read_store"]

T = TypeVar("T")

#: A table every initialised store has (store.migrations records each migration there).
_MARKER_TABLE = "repotrack_migrations"


def open_existing_store(url: str, *, migrated: bool = True) -> Store:
    """Open a store that exists (an embedded one with its migrations applied, as
    ``store.open_current_store``, unless not ``migrated``: ``db status`` reports them); never
    create one.

    A chDB directory that is absent (or holds no schema) is a ``StoreError`` naming it,
    with the command that creates it.
    """
    from repotrack.store import migrate, open_store, redact_url

    path = _chdb_path(url)
    if path is not None and not (path / "metadata").is_dir():
        raise _not_initialised(str(path))
    store = open_store(url)
    try:
        ((exists,),) = store.query(f"EXISTS TABLE {_MARKER_TABLE}")
        if exists and migrated and path is not None:
            migrate(store)
    except BaseException:
        store.close()
        raise
    if not exists:
        store.close()
        raise _not_initialised(redact_url(url))
    return store


def _chdb_path(url: str) -> Path | None:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None  # open_store names the malformed URL
    if parts.scheme != "chdb" or parts.netloc or not parts.path.startswith("/"):
        return None
    return Path(unquote(parts.path))


def _not_initialised(where: str) -> StoreError:
    return StoreError(
        f"no analytics store at {where}: it was never initialised; "
        "run 'repotrack db init' or load a repository first"
    )


def read_store(
    settings: Settings,
    url: str | None,
    *,
    local: Callable[[Store], T],
    remote: Callable[[ServiceReader], T],
    migrated: bool = True,
) -> T:
    """``local(store)`` on the store; ``remote(reader)`` when the running service holds it.

    Only the configured store is handed over: the service serves that one, not an
    arbitrary ``--store``. ``migrated``: as ``open_existing_store``.
    """
    target = url or settings.store_url
    try:
        store = open_existing_store(target, migrated=migrated)
    except StoreLockedError as locked:
        if target != settings.store_url:
            raise
        return remote(ServiceReader(settings, locked))
    with store:
        return local(store)


def from_plain(kind: Any, data: Any) -> Any:
    """Rebuild a result of type ``kind`` from the plain data a route answered.

    The inverse of ``store.to_plain`` for the result types the routes return
    (dataclasses of str, int, float, bool, dates, and lists and dicts of those), so a
    command renders a result from the service exactly as one it computed itself.
    """
    import dataclasses
    import datetime as dt
    import enum
    import types
    import typing
    import uuid

    origin = typing.get_origin(kind)
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        hints = typing.get_type_hints(kind)
        return kind(
            **{
                f.name: from_plain(hints[f.name], data[f.name])
                for f in dataclasses.fields(kind)
                if f.name in data
            }
        )
    if origin is list:
        (item,) = typing.get_args(kind)
        return [from_plain(item, value) for value in data]
    if origin is dict:
        _key, item = typing.get_args(kind)
        return {key: from_plain(item, value) for key, value in data.items()}
    if origin in (typing.Union, types.UnionType):
        if data is None:
            return None
        (inner,) = [a for a in typing.get_args(kind) if a is not type(None)]
        return from_plain(inner, data)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(data)
    if kind in (dt.datetime, dt.date) and isinstance(data, str):
        return kind.fromisoformat(data)
    if kind is uuid.UUID and isinstance(data, str):
        return uuid.UUID(data)
    if kind in (int, float) and isinstance(data, str | int | float):
        return kind(data)  # pkg_hash travels as a string
    return data


class ServiceReader:
    """GET requests to the running service's ``/api/v1``, answers as plain JSON data."""

    def __init__(self, settings: Settings, locked: StoreLockedError) -> None:
        from repotrack.cli.load_remote import service_url

        self.settings = settings
        self.locked = locked
        self.base_url = service_url(settings)

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        return self._request("GET", path, params=query)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        """A write the service makes on its store (a route behind the account)."""
        return self._request("POST", path, json=body)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        from repotrack import __version__
        from repotrack.cli.load_remote import CONNECT_TIMEOUT, READ_TIMEOUT, USER_ENV
        from repotrack.cli.tracking_client import transport_reason

        try:
            with httpx.Client(
                base_url=self.base_url,
                verify=self._tls_verify(),
                auth=self._auth(USER_ENV),
                timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
                headers={"User-Agent": f"repotrack/{__version__}"},
            ) as http:
                response = http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise StoreError(
                f"{self.locked}; asking the service at {self.base_url} failed: "
                f"{transport_reason(exc)}"
            ) from exc
        return self._answer(response)

    def _tls_verify(self) -> Any:
        from repotrack.cli.load_remote import ServiceOptions, service_tls_verify

        return service_tls_verify(self.settings, ServiceOptions(), self.base_url)

    def _auth(self, user_env: str) -> Any:
        import httpx

        from repotrack.cli.load_remote import PASSWORD_ENV

        password = os.environ.get(PASSWORD_ENV)
        if not password:
            return None
        user = os.environ.get(user_env) or self.settings.service.user
        return httpx.BasicAuth(user, password)

    def _answer(self, response: Any) -> Any:
        from repotrack.cli.load_remote import answer_detail

        status = response.status_code
        if status == 200:
            return response.json()
        detail = answer_detail(response)
        if status == 404:
            raise NotFoundError(detail)
        if status == 422:
            raise InputError(detail)
        if status in (401, 403):
            what = "reads" if response.request.method == "GET" else "changes"
            raise AuthError(
                f"{self.base_url}: the service wants an account for {what}; set "
                "REPOTRACK_USER and REPOTRACK_PASSWORD"
            )
        if status == 503:
            raise StoreError(f"the service at {self.base_url} cannot read the store: {detail}")
        raise UpstreamError(f"HTTP {status}: {detail}", url=self.base_url)
