"""The adapter registry and ``make_forge``, loaded only when a forge is talked to.

Kept apart from the package's light names (targets, refs) so that a scan with nothing
new, which only needs to tell which forge an item is on, does not import the HTTP
client.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from pydantic import SecretStr

from repotrack.errors import ConfigError
from repotrack.tracking.forges.base import Forge
from repotrack.tracking.forges.common import HttpForge
from repotrack.tracking.forges.gitea import GiteaForge
from repotrack.tracking.forges.gitee import GiteeForge
from repotrack.tracking.forges.github import GitHubForge
from repotrack.tracking.forges.gitlab import GitLabForge
from repotrack.tracking.forges.http import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_WAIT,
    DEFAULT_TIMEOUT,
)

__all__ = ["FORGES", "make_forge"]

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
