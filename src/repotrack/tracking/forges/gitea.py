"""Gitea and Forgejo API v1 (Codeberg and self-hosted, optionally under a sub-path).

``Authorization: token T`` (query tokens are deprecated and off on hardened servers),
JSON bodies. Pages use ``limit``, which servers cap silently (default 50), so the end of
a list is read from the ``Link`` header rather than from a short page. Pull requests are
found by listing them (``state=all``) and matching ``head.ref``: the ``/pulls/{base}/{head}``
endpoint exists only on Gitea 1.22+ and is unconfirmed on Forgejo, and it needs the base
branch, which the contract does not give. A duplicate pull request is refused with 409;
the open one is then found and returned.

Fork mode: ``POST /repos/{owner}/{repo}/forks`` forks into the token owner's namespace
(202, done when it answers); pull requests come from ``login:branch`` and are matched on
``head.repo.full_name``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from repotrack.tracking.forges.base import ForgeTarget, PullRef
from repotrack.tracking.forges.common import JsonIssueForge

__all__ = ["GITEA_PAGE_SIZE", "GiteaForge"]

GITEA_PAGE_SIZE = 50


class GiteaForge(JsonIssueForge):
    kind = "gitea"
    #: 409 "pull request already exists for these targets"
    duplicate_pull_status = 409
    issue_list_params: ClassVar[Mapping[str, str]] = {"state": "all", "type": "issues"}
    page_size_param = "limit"
    page_size = GITEA_PAGE_SIZE

    def auth_headers(self, token: str) -> Mapping[str, str]:
        return {"Authorization": f"token {token}"} if token else {}

    def find_pull_request(
        self, target: ForgeTarget, *, head: str, fork: ForgeTarget | None = None
    ) -> PullRef | None:
        path = f"{self.repo_path(target)}/pulls"
        params = {"state": "all"}
        for item in self.http.paginate(path, params, size_param="limit", size=GITEA_PAGE_SIZE):
            if self.head_matches(item, head, target, fork):
                return self.pull_ref(item)
        return None
