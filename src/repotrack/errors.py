"""The one exception tree of repotrack.

Core code raises these; the faces decide what a user sees (the CLI prints
``TypeName: message`` and picks an exit status, the REST service picks a 4xx/5xx
status and a JSON body). Foreign exceptions are translated into this tree at one
boundary per dependency, always chained with ``from``.

::

    RepotrackError
    ├── ConfigError        settings file, environment or secret file is unusable
    ├── InputError         bad user or file input (a field, a YAML file, an RPM header)
    │   ├── AuthError      credentials missing or wrong
    │   └── TaskDataError  a girar task directory has a missing or malformed file
    ├── NotFoundError      a named object (tracking item, package set) does not exist
    ├── ConflictError      the operation clashes with existing state (already loaded, locked)
    ├── UpstreamError      an upstream git remote or feed cannot be read
    ├── ForgeError         a downstream forge API refused or failed a call
    │   └── RateLimitError the forge asked us to wait (carries ``retry_at``)
    └── StoreError         the analytics store or state database failed
        └── StoreLockedError  another process (the service) holds the embedded store
"""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "AuthError",
    "ConfigError",
    "ConflictError",
    "ForgeError",
    "InputError",
    "NotFoundError",
    "RateLimitError",
    "RepotrackError",
    "StoreError",
    "StoreLockedError",
    "TaskDataError",
    "UpstreamError",
]


class RepotrackError(Exception):
    """Base of every error repotrack raises on purpose."""

    #: Exit status the CLI uses for this kind of error.
    exit_code: int = 1


class ConfigError(RepotrackError):
    """The configuration (file, environment, secret file) cannot be used as given."""

    exit_code = 2

    def __init__(self, message: str, *, source: str | None = None, key: str | None = None) -> None:
        self.source = source
        self.key = key
        where = ": ".join(p for p in (source, key) if p)
        super().__init__(f"{where}: {message}" if where else message)


class InputError(RepotrackError):
    """Bad input from a user or a file: names what is at fault and where.

    ``path`` is a file, ``field`` a key or option, ``offset`` a byte position in a
    binary file; any may be absent.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        field: str | None = None,
        offset: int | None = None,
    ) -> None:
        self.path = path
        self.field = field
        self.offset = offset
        self.reason = message
        parts = []
        if path:
            parts.append(str(path))
        if offset is not None:
            parts.append(f"offset {offset}")
        if field:
            parts.append(field)
        prefix = ", ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class AuthError(InputError):
    """Credentials are missing or do not match the configured account."""

    exit_code = 1


class TaskDataError(InputError):
    """A girar task directory lacks a required file or holds a malformed one.

    Names the task and the file. Exits 1, as ALTRepo's ``task_loader`` does: the task
    tree is girar's output, not something the user typed (a bad task id is a plain
    ``InputError``, exit 2).
    """

    exit_code = 1

    def __init__(self, message: str, *, task: int | str, path: str | None = None) -> None:
        self.task = task
        super().__init__(message, path=path)
        self.args = (f"task {task}: {self.args[0]}",)


class NotFoundError(RepotrackError):
    """A named object does not exist."""


class ConflictError(RepotrackError):
    """The operation clashes with existing state: already loaded, locked by another run."""


class UpstreamError(RepotrackError):
    """An upstream (git remote, feed URL) cannot be read or refuses the request."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        self.url = url
        super().__init__(f"{url}: {message}" if url else message)


class ForgeError(RepotrackError):
    """A downstream forge API call failed; ``status`` is the HTTP status when there was one."""

    def __init__(
        self, message: str, *, forge: str | None = None, status: int | None = None
    ) -> None:
        self.forge = forge
        self.status = status
        super().__init__(f"{forge}: {message}" if forge else message)


class RateLimitError(ForgeError):
    """The forge asked us to wait until ``retry_at`` before calling again."""

    def __init__(
        self,
        message: str,
        *,
        forge: str | None = None,
        status: int | None = None,
        retry_at: datetime | None = None,
    ) -> None:
        self.retry_at = retry_at
        super().__init__(message, forge=forge, status=status)


class StoreError(RepotrackError):
    """The analytics store or the state database failed."""


class StoreLockedError(StoreError):
    """Another process holds the embedded store directory (normally ``repotrack serve``).

    A class of its own because callers act on it: a CLI load hands its job to the
    service instead of failing. Users see it as the ``StoreError`` it is.
    """

    type_name = "StoreError"
