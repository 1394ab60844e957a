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
from repotrack.service.jobs import LoadRunner
from repotrack.state import StateDB

__all__ = [
    "ApiRead",
    "ApiWrite",
    "AuthRequiredError",
    "CompatRead",
    "CompatWrite",
    "LoadsDep",
    "SettingsDep",
    "StateDep",
]


class AuthRequiredError(Exception):
    """Raised by the auth dependencies; the app turns it into a 401 (see ``errors``)."""

    def __init__(self, *, compat: bool) -> None:
        self.compat = compat
        super().__init__("authentication required")


def _state_db(request: Request) -> StateDB:
    db: StateDB = request.app.state.state_db
    return db


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _loads(request: Request) -> LoadRunner:
    runner: LoadRunner = request.app.state.loads
    return runner


def _auth(request: Request) -> BasicAuth:
    auth: BasicAuth = request.app.state.auth
    return auth


def _check(request: Request, *, compat: bool) -> None:
    if not _auth(request).check(request.headers.get("authorization")):
        raise AuthRequiredError(compat=compat)


def _compat_write(request: Request) -> None:
    _check(request, compat=True)


def _api_write(request: Request) -> None:
    _check(request, compat=False)


def _compat_read(request: Request) -> None:
    if _settings(request).service.require_auth_for_reads:
        _check(request, compat=True)


def _api_read(request: Request) -> None:
    if _settings(request).service.require_auth_for_reads:
        _check(request, compat=False)


StateDep = Annotated[StateDB, Depends(_state_db)]
SettingsDep = Annotated[Settings, Depends(_settings)]
LoadsDep = Annotated[LoadRunner, Depends(_loads)]
CompatWrite = Depends(_compat_write)
CompatRead = Depends(_compat_read)
ApiWrite = Depends(_api_write)
ApiRead = Depends(_api_read)
