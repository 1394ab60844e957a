"""Downstream forges: one adapter contract, four forges, one HTTP door.

``parse_downstream`` turns a downstream repository URL into a :class:`ForgeTarget`;
``make_forge`` builds the adapter for its kind. Adapters receive plain data (target,
token, API URL), never settings or ORM rows; the call policy (timeouts, retries,
rate limits, token redaction) is in :mod:`repotrack.tracking.forges.http`.

``FORGES`` is the explicit registry (pinned by a test): ``gitee`` (Gitee API v5, as
openEuler's patch-tracking spoke it), ``github`` (REST), ``gitlab`` (REST v4) and
``gitea`` (Gitea and Forgejo API v1).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from pydantic import SecretStr

from repotrack.errors import ConfigError
from repotrack.tracking.forges.base import Forge, ForgeTarget, IssueRef, PullRef
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
from repotrack.tracking.forges.targets import KNOWN_HOSTS, default_api_url, parse_downstream

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

FORGES: dict[str, type[HttpForge]] = {
    "gitee": GiteeForge,
    "github": GitHubForge,
    "gitlab": GitLabForge,
    "gitea": GiteaForge,
}


def make_forge(
    kind: str,
    *,
    token: SecretStr | None,
    api_url: str,
    timeout: float = DEFAULT_TIMEOUT,
    max_retries: int = DEFAULT_MAX_RETRIES,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
    max_wait: float = DEFAULT_MAX_WAIT,
) -> Forge:
    """The adapter for ``kind``, talking to ``api_url`` with ``token``.

    ``sleep`` and ``max_wait`` bound rate-limit waits (a longer wait raises
    ``RateLimitError``); tests inject a recording ``sleep`` so nothing sleeps for long.
    """
    try:
        cls = FORGES[kind]
    except KeyError:
        raise ConfigError(
            f"unknown forge kind {kind!r} (known: {', '.join(sorted(FORGES))})", key="kind"
        ) from None
    return cls(
        token=token,
        api_url=api_url,
        timeout=timeout,
        max_retries=max_retries,
        transport=transport,
        sleep=sleep,
        max_wait=max_wait,
    )
