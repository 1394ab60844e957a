"""Gitee API v5, spoken exactly as openEuler's patch-tracking spoke it.

The token travels as ``access_token``: a query parameter on GETs and a form field in
form-encoded POST bodies, because that is the only method Gitee's swagger documents and
what the original service sent (reference ``patch_tracking.md`` §5.2). Issues are created
at the *owner* level, ``POST /repos/{owner}/issues`` with the repository in the ``repo``
field; pull requests at ``POST /repos/{owner}/{repo}/pulls`` with
``prune_source_branch=true`` so Gitee deletes the tracking branch once merged.

Gitee documents no error for a duplicate pull request, so :meth:`create_pull_request`
looks for an open one with the same head first. Its issue list has no text filter: the
marker is matched client-side over the ``open`` and ``progressing`` issues (an issue a
maintainer moved to "progressing" is still the one to reuse).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from repotrack.tracking.forges.base import ForgeTarget, IssueRef, PullRef
from repotrack.tracking.forges.common import HttpForge, quote_segment

__all__ = ["GITEE_API_URL", "GiteeForge"]

GITEE_API_URL = "https://gitee.com/api/v5"
_OPEN_STATES = ("open", "progressing")


class GiteeForge(HttpForge):
    kind = "gitee"

    def _auth(self) -> dict[str, str]:
        return {"access_token": self._token} if self._token else {}

    def check_token(self) -> None:
        self.http.request("GET", "/user", params=self._auth())

    def find_issue(self, target: ForgeTarget, *, marker: str) -> IssueRef | None:
        return self._find_issue(target, lambda item: marker in (item.get("body") or ""))

    def create_issue(self, target: ForgeTarget, *, title: str, body: str) -> IssueRef:
        def post() -> IssueRef:
            form = {**self._auth(), "repo": target.name, "title": title, "body": body}
            path = f"/repos/{quote_segment(target.owner)}/issues"
            response = self.http.request("POST", path, data=form, expect=(201,))
            return self.issue_ref(self.http.json(response))

        def same(item: Mapping[str, Any]) -> bool:
            return item.get("title") == title and (item.get("body") or "") == body

        return self.http.create_guarded(post, lambda: self._find_issue(target, same))

    def _find_issue(
        self, target: ForgeTarget, match: Callable[[Mapping[str, Any]], bool]
    ) -> IssueRef | None:
        for state in _OPEN_STATES:
            params = {**self._auth(), "state": state}
            for item in self.http.paginate(f"{self.repo_path(target)}/issues", params):
                if match(item):
                    return self.issue_ref(item)
        return None

    def find_pull_request(self, target: ForgeTarget, *, head: str) -> PullRef | None:
        params = {**self._auth(), "state": "open", "head": head}
        for item in self.http.paginate(f"{self.repo_path(target)}/pulls", params):
            if (item.get("head") or {}).get("ref") == head:
                return self.pull_ref(item)
        return None

    def create_pull_request(
        self, target: ForgeTarget, *, title: str, body: str, head: str, base: str
    ) -> PullRef:
        existing = self.find_pull_request(target, head=head)
        if existing is not None:
            return existing

        def post() -> PullRef:
            form = {
                **self._auth(),
                "repo": target.name,
                "title": title,
                "head": head,
                "base": base,
                "body": body,
                "prune_source_branch": "true",
            }
            path = f"{self.repo_path(target)}/pulls"
            response = self.http.request("POST", path, data=form, expect=(201,))
            return self.pull_ref(self.http.json(response))

        return self.http.create_guarded(post, lambda: self.find_pull_request(target, head=head))
