"""Downstream forges: one adapter contract, four forges, one HTTP door.

``parse_downstream`` turns a downstream repository URL into a :class:`ForgeTarget`;
``make_forge`` builds the adapter for its kind. Adapters receive plain data (target,
token, API URL), never settings or ORM rows; the call policy (timeouts, retries,
rate limits, token redaction) is in :mod:`repotrack.tracking.forges.http`.

``FORGES`` (in ``registry``, loaded with the HTTP client on first use) is the
explicit registry (pinned by a test): ``gitee`` (Gitee API v5, as
openEuler's patch-tracking spoke it), ``github`` (REST), ``gitlab`` (REST v4) and
``gitea`` (Gitea and Forgejo API v1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from repotrack.lazy_names import lazy_getattr
from repotrack.tracking.forges.base import Forge, ForgeTarget, IssueRef, PullRef
from repotrack.tracking.forges.targets import KNOWN_HOSTS, default_api_url, parse_downstream

if TYPE_CHECKING:
    from repotrack.tracking.forges.common import HttpForge
    from repotrack.tracking.forges.gitea import GiteaForge
    from repotrack.tracking.forges.gitee import GiteeForge
    from repotrack.tracking.forges.github import GitHubForge
    from repotrack.tracking.forges.gitlab import GitLabForge
    from repotrack.tracking.forges.http import (
        DEFAULT_MAX_RETRIES,
        DEFAULT_MAX_WAIT,
        DEFAULT_TIMEOUT,
        UncertainOutcomeError,
        redact,
    )
    from repotrack.tracking.forges.registry import FORGES, make_forge

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_WAIT",
    "DEFAULT_TIMEOUT",
    "FORGES",
    "KNOWN_HOSTS",
    "Forge",
    "ForgeTarget",
    "GitHubForge",
    "GitLabForge",
    "GiteaForge",
    "GiteeForge",
    "HttpForge",
    "IssueRef",
    "PullRef",
    "UncertainOutcomeError",
    "default_api_url",
    "make_forge",
    "parse_downstream",
    "redact",
]

#: Names whose modules import the HTTP client: loaded on first use.
_LAZY = {
    "FORGES": "registry",
    "make_forge": "registry",
    "HttpForge": "common",
    "GiteaForge": "gitea",
    "GiteeForge": "gitee",
    "GitHubForge": "github",
    "GitLabForge": "gitlab",
    "DEFAULT_MAX_RETRIES": "http",
    "DEFAULT_MAX_WAIT": "http",
    "DEFAULT_TIMEOUT": "http",
    "UncertainOutcomeError": "http",
    "redact": "http",
}


__getattr__ = lazy_getattr(__name__, _LAZY, globals())
