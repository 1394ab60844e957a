"""From a downstream ``repo`` URL to a :class:`ForgeTarget`: which forge, which API, which repo.

The original removed a literal ``https://gitee.com/`` prefix and split the rest, so a
``.git`` suffix, a trailing slash or ``http://`` broke it with an uncaught exception
(reference ``patch_tracking.md`` §10.1 item 10). Here the URL is parsed:

- the forge is chosen by host (and port, and path prefix for forges installed under a
  sub-path) among the configured ``[forges.<name>] web_url`` values, else among the
  known public hosts ``gitee.com``, ``github.com``, ``gitlab.com`` and ``codeberg.org``;
- ``.git``, trailing slashes and ``http://`` for an ``https://`` forge are tolerated;
- GitLab paths keep their groups (``group/sub/name``) and drop a ``/-/...`` tail;
- a bare ``owner/name`` (the original 20.09 docs' form, which its tracker ran on
  Gitee) names a repository on the default forge: ``[tracking] default_forge``,
  ``gitee`` unless configured;
- anything else (another scheme, credentials or a query in the URL, an unknown host, a
  path that is not ``owner/name``) is an ``InputError(field="repo")`` naming the URL with
  any password removed.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping

from repotrack.config import ForgeSettings
from repotrack.errors import ConfigError, InputError
from repotrack.tracking.forges.base import ForgeTarget

__all__ = ["KNOWN_HOSTS", "default_api_url", "default_web_url", "parse_downstream"]

#: Public forges recognised without configuration: host -> kind.
KNOWN_HOSTS = {
    "gitee.com": "gitee",
    "github.com": "github",
    "gitlab.com": "gitlab",
    "codeberg.org": "gitea",
}
KINDS = ("gitee", "github", "gitlab", "gitea")
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
#: ``owner/name`` (GitLab: ``group/sub/name``) with no scheme or host.
_SHORT_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*(/[A-Za-z0-9_][A-Za-z0-9_.\-]*)+/?$")


def default_api_url(kind: str, web_url: str) -> str:
    """The API base of a forge whose web pages live at ``web_url``."""
    host = urllib.parse.urlsplit(web_url).hostname
    if kind == "gitee":
        return "https://gitee.com/api/v5" if host == "gitee.com" else f"{web_url}/api/v5"
    if kind == "github":
        return "https://api.github.com" if host == "github.com" else f"{web_url}/api/v3"
    if kind == "gitlab":
        return f"{web_url}/api/v4"
    return f"{web_url}/api/v1"


def parse_downstream(
    repo_url: str, forges: Mapping[str, ForgeSettings], *, default_forge: str = "gitee"
) -> ForgeTarget:
    """The forge target a downstream repository URL names (module docstring for the rules)."""
    if _SHORT_NAME.match(repo_url.strip()):
        repo_url = f"{default_web_url(default_forge, forges)}/{repo_url.strip().strip('/')}"
    split = _split(repo_url)
    match = _configured_forge(split, forges) or _known_forge(split, forges, repo_url)
    name, settings, web_url, prefix = match
    kind = settings.kind or name
    if kind not in KINDS:
        raise ConfigError(f"unknown forge kind {kind!r}", key=f"forges.{name}.kind")
    owner, repo = _owner_and_name(split.path[len(prefix) :], kind, repo_url)
    api_url = (settings.api_url or default_api_url(kind, web_url)).rstrip("/")
    return ForgeTarget(
        kind=kind, api_url=api_url, web_url=web_url, owner=owner, name=repo, forge_name=name
    )


def default_web_url(name: str, forges: Mapping[str, ForgeSettings]) -> str:
    """Where repositories of forge ``name`` live: its ``web_url``, else its public host."""
    settings = forges.get(name, ForgeSettings())
    if settings.web_url:
        return settings.web_url.strip().rstrip("/")
    kind = settings.kind or name
    hosts = [host for host, known in KNOWN_HOSTS.items() if known == kind]
    if not hosts:
        raise ConfigError(
            f"default forge {name!r} has no web_url and no public host",
            key="tracking.default_forge",
        )
    return f"https://{hosts[0]}"


def _safe(url: str) -> str:
    """The URL for an error message: any user-info (a token) replaced."""
    return re.sub(r"://[^/@]*@", "://***@", url.strip())


def _split(repo_url: str) -> urllib.parse.SplitResult:
    text = repo_url.strip()
    if not text:
        raise InputError("empty repository URL", field="repo")
    try:
        split = urllib.parse.urlsplit(text)
        split.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise InputError(f"not a valid URL: {_safe(text)}", field="repo") from exc
    if split.scheme.lower() not in ("http", "https") or not split.hostname:
        raise InputError(
            f"expected an http(s) URL of a forge repository, got {_safe(text)}", field="repo"
        )
    if split.username is not None or split.password is not None:
        raise InputError(
            f"credentials do not belong in the repository URL: {_safe(text)}", field="repo"
        )
    if split.query or split.fragment:
        raise InputError(f"unexpected query or fragment in {_safe(text)}", field="repo")
    return split


_Match = tuple[str, ForgeSettings, str, str]  # name, settings, web_url, path prefix


def _configured_forge(
    split: urllib.parse.SplitResult, forges: Mapping[str, ForgeSettings]
) -> _Match | None:
    best: _Match | None = None
    for name, settings in forges.items():
        if not settings.web_url:
            continue
        web = urllib.parse.urlsplit(settings.web_url.strip().rstrip("/"))
        if (web.hostname, web.port) != (split.hostname, split.port):
            continue
        prefix = web.path.rstrip("/")
        if prefix and not (split.path == prefix or split.path.startswith(prefix + "/")):
            continue
        if best is None or len(prefix) > len(best[3]):
            best = (name, settings, settings.web_url.strip().rstrip("/"), prefix)
    return best


def _known_forge(
    split: urllib.parse.SplitResult, forges: Mapping[str, ForgeSettings], repo_url: str
) -> _Match:
    host = (split.hostname or "").lower()
    kind = KNOWN_HOSTS.get(host)
    if kind is None or split.port is not None:
        raise InputError(
            f"no forge configured for {host!r} (set [forges.<name>] web_url): {_safe(repo_url)}",
            field="repo",
        )
    # A [forges.<name>] without web_url still supplies the token for the public host.
    for name, settings in forges.items():
        if not settings.web_url and (settings.kind or name) == kind:
            return (name, settings, f"https://{host}", "")
    return (kind, forges.get(kind, ForgeSettings()), f"https://{host}", "")


def _owner_and_name(path: str, kind: str, repo_url: str) -> tuple[str, str]:
    segments = [s for s in path.split("/") if s]
    if kind == "gitlab" and "-" in segments:
        segments = segments[: segments.index("-")]
    if segments and segments[-1].endswith(".git"):
        segments[-1] = segments[-1][: -len(".git")]
    if len(segments) < 2 or (kind != "gitlab" and len(segments) != 2):
        expected = "group[/subgroup]/name" if kind == "gitlab" else "owner/name"
        raise InputError(
            f"expected a {kind} repository URL ending in {expected}: {_safe(repo_url)}",
            field="repo",
        )
    for segment in segments:
        if not _SEGMENT.match(segment) or segment.endswith((".", ".git")):
            raise InputError(f"bad path segment {segment!r} in {_safe(repo_url)}", field="repo")
    return "/".join(segments[:-1]), segments[-1]
