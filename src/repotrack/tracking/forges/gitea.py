"""Gitea and Forgejo API v1 (Codeberg and self-hosted, optionally under a sub-path).

``Authorization: token T`` (query tokens are deprecated and off on hardened servers),
JSON bodies. Pages use ``limit``, which servers cap silently (default 50), so the end of
a list is read from the ``Link`` header rather than from a short page. Pull requests are
found by listing open ones and matching ``head.ref``: the ``/pulls/{base}/{head}``
endpoint exists only on Gitea 1.22+ and is unconfirmed on Forgejo, and it needs the base
branch, which the contract does not give. A duplicate pull request is refused with 409;
the open one is then found and returned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from repotrack.errors import ForgeError
from repotrack.tracking.forges.base import ForgeTarget, IssueRef, PullRef
from repotrack.tracking.forges.common import HttpForge

__all__ = ["GITEA_PAGE_SIZE", "GiteaForge"]

GITEA_PAGE_SIZE = 50


class GiteaForge(HttpForge):
    kind = "gitea"

    def auth_headers(self, token: str) -> Mapping[str, str]:
        return {"Authorization": f"token {token}"} if token else {}

    def check_token(self) -> None:
        self.http.request("GET", "/user")

    def find_issue(self, target: ForgeTarget, *, marker: str) -> IssueRef | None:
        return self._find_issue(target, lambda item: marker in (item.get("body") or ""))

    def create_issue(self, target: ForgeTarget, *, title: str, body: str) -> IssueRef:
        def post() -> IssueRef:
            path = f"{self.repo_path(target)}/issues"
            payload = {"title": title, "body": body}
            response = self.http.request("POST", path, json_body=payload, expect=(201,))
            return self.issue_ref(self.http.json(response))

        def same(item: Mapping[str, Any]) -> bool:
            return item.get("title") == title and (item.get("body") or "") == body

        return self.http.create_guarded(post, lambda: self._find_issue(target, same))

    def _find_issue(
        self, target: ForgeTarget, match: Callable[[Mapping[str, Any]], bool]
    ) -> IssueRef | None:
        path = f"{self.repo_path(target)}/issues"
        params = {"state": "open", "type": "issues"}
        for item in self.http.paginate(path, params, size_param="limit", size=GITEA_PAGE_SIZE):
            if not item.get("pull_request") and match(item):
                return self.issue_ref(item)
        return None

    def find_pull_request(self, target: ForgeTarget, *, head: str) -> PullRef | None:
        path = f"{self.repo_path(target)}/pulls"
        params = {"state": "open"}
        for item in self.http.paginate(path, params, size_param="limit", size=GITEA_PAGE_SIZE):
            if (item.get("head") or {}).get("ref") == head:
                return self.pull_ref(item)
        return None

    def create_pull_request(
        self, target: ForgeTarget, *, title: str, body: str, head: str, base: str
    ) -> PullRef:
        def post() -> PullRef:
            payload = {"title": title, "head": head, "base": base, "body": body}
            path = f"{self.repo_path(target)}/pulls"
            try:
                response = self.http.request("POST", path, json_body=payload, expect=(201,))
            except ForgeError as exc:
                # 409 "pull request already exists for these targets": reuse that one.
                existing = self.find_pull_request(target, head=head) if exc.status == 409 else None
                if existing is None:
                    raise
                return existing
            return self.pull_ref(self.http.json(response))

        return self.http.create_guarded(post, lambda: self.find_pull_request(target, head=head))
