"""Store URLs -> backends: the one place that maps a scheme to an implementation.

``chdb:///abs/path``            embedded ClickHouse in that directory (created if absent)
``clickhouse://user:pw@host:8123/db``   a ClickHouse server over HTTP
``clickhouses://user:pw@host:8443/db``  the same over HTTPS
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit

from repotrack.errors import InputError
from repotrack.store.base import Store
from repotrack.url_paths import url_path

__all__ = ["SCHEMES", "chdb_path", "chdb_url", "open_store", "redact_url"]

_FIELD = "store url"


def open_store(url: str) -> Store:
    """Open the store ``url`` names; bad URLs raise ``InputError`` naming the problem."""
    parts = _split(url)
    opener = SCHEMES.get(parts.scheme)
    if opener is None:
        known = ", ".join(f"{s}://" for s in SCHEMES)
        raise InputError(
            f"unknown scheme {parts.scheme + '://' if parts.scheme else '(none)'} in "
            f"{redact_url(url)}; use one of {known}",
            field=_FIELD,
        )
    return opener(parts)


def redact_url(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable url>"
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{netloc}").geturl()


def _split(url: str) -> SplitResult:
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # validates the port
    except ValueError as exc:
        raise InputError(f"malformed URL {redact_url(url)}: {exc}", field=_FIELD) from exc
    return parts


def chdb_url(path: Path) -> str:
    """The URL of the embedded store in directory ``path`` (``url_path``: a ``%41`` in
    a directory's name is no ``A``, nor a ``?`` the start of a query)."""
    return f"chdb://{url_path(path)}"


def chdb_path(url: str) -> Path:
    """The directory a ``chdb://`` URL names (``chdb_url`` undone); InputError if the
    URL names none."""
    parts = _split(url)
    if parts.scheme != "chdb" or parts.netloc or not parts.path.startswith("/"):
        raise InputError(f"expected chdb:///absolute/path, got {parts.geturl()}", field=_FIELD)
    if parts.query or parts.fragment:
        raise InputError(f"expected chdb:///absolute/path, got {parts.geturl()}", field=_FIELD)
    return Path(unquote(parts.path))


def _open_chdb(parts: SplitResult) -> Store:
    from repotrack.store.chdb_backend import ChdbStore

    path = str(chdb_path(parts.geturl()))
    if "?" in path or "\0" in path:
        raise InputError(f"unusable character in chDB path {path!r}", field=_FIELD)
    return ChdbStore(Path(path))


def _open_clickhouse(parts: SplitResult) -> Store:
    from repotrack.store.clickhouse_backend import ClickHouseStore, ServerAddress

    secure = parts.scheme == "clickhouses"
    if not parts.hostname:
        raise InputError(f"no host in {redact_url(parts.geturl())}", field=_FIELD)
    database = unquote(parts.path.strip("/")) or "default"
    if "/" in database:
        raise InputError(f"bad database name in {redact_url(parts.geturl())}", field=_FIELD)
    address = ServerAddress(
        host=parts.hostname,
        port=parts.port or (8443 if secure else 8123),
        database=database,
        username=unquote(parts.username or "default"),
        password=unquote(parts.password or ""),
        secure=secure,
    )
    return ClickHouseStore(address)


#: Scheme -> opener; pinned by tests/unit/store/test_urls.py.
SCHEMES: dict[str, Callable[[SplitResult], Store]] = {
    "chdb": _open_chdb,
    "clickhouse": _open_clickhouse,
    "clickhouses": _open_clickhouse,
}
