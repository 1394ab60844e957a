"""FastAPI dependencies, each named once as an ``Annotated`` alias.

Routes declare what they need (``StateDep``, ``CompatWrite``, ``ApiRead``...) and
never reach into ``app.state`` themselves. The compat and ``/api/v1`` families differ
only in how a refusal looks: the original's plain ``Unauthorized Access`` body, or a
JSON ``detail``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from repotrack.config import Settings
from repotrack.service.auth import BasicAuth
from repotrack.service.job_queue import QueuedLoadRunner
from repotrack.service.jobs import LoadRunner
from repotrack.state import StateDB

__all__ = [
    "ApiRead",
    "ApiWrite",
    "AuthRequiredError",
    "CompatRead",
    "CompatWrite",
    "LoadsDep",
    "LoggedIn",
    "LoginThrottledError",
    "SettingsDep",
    "StateDep",
    "authenticated",
]


class AuthRequiredError(Exception):
    """Raised by the auth dependencies; the app turns it into a 401 (see ``errors``)."""

    def __init__(self, *, compat: bool) -> None:
        self.compat = compat
        super().__init__("authentication required")


class LoginThrottledError(Exception):
    """Too many failed logins from this address or for this user: a 429 (see ``errors``)."""

    def __init__(self, *, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__("too many failed logins")


def _state_db(request: Request) -> StateDB:
    db: StateDB = request.app.state.state_db
    return db


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _loads(request: Request) -> LoadRunner | QueuedLoadRunner:
    runner: LoadRunner | QueuedLoadRunner = request.app.state.loads
    return runner


def _auth(request: Request) -> BasicAuth:
    auth: BasicAuth = request.app.state.auth
    return auth


async def authenticated(request: Request) -> bool:
    """Whether the request carries the account's credentials; raises ``LoginThrottledError``.

    Async on purpose: the hash runs in the authenticator's own pool, so a flood of
    wrong passwords never occupies the threads that serve other requests.
    """
    client = request.client.host if request.client else "unknown"
    outcome = await _auth(request).authenticate(request.headers.get("authorization"), client=client)
    if outcome.retry_after is not None:
        raise LoginThrottledError(retry_after=outcome.retry_after)
    return outcome.ok


async def _check(request: Request, *, compat: bool) -> None:
    if not await authenticated(request):
        raise AuthRequiredError(compat=compat)


async def _compat_write(request: Request) -> None:
    await _check(request, compat=True)


async def _api_write(request: Request) -> None:
    await _check(request, compat=False)


async def _compat_read(request: Request) -> None:
    if _settings(request).service.require_auth_for_reads:
        await _check(request, compat=True)


async def _api_read(request: Request) -> None:
    if _settings(request).service.require_auth_for_reads:
        await _check(request, compat=False)


async def _api_optional(request: Request) -> bool:
    """Whether the caller is logged in, for routes that show more to the account."""
    if request.headers.get("authorization") is None:
        return False
    return await authenticated(request)


StateDep = Annotated[StateDB, Depends(_state_db)]
SettingsDep = Annotated[Settings, Depends(_settings)]
LoadsDep = Annotated[LoadRunner | QueuedLoadRunner, Depends(_loads)]
CompatWrite = Depends(_compat_write)
CompatRead = Depends(_compat_read)
ApiWrite = Depends(_api_write)
ApiRead = Depends(_api_read)
#: True when the request carries the account's credentials (never a 401 by itself).
LoggedIn = Annotated[bool, Depends(_api_optional)]
