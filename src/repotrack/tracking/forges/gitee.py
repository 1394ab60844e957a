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

from repotrack.errors import ForgeError
from repotrack.tracking.forges.base import ForgeTarget, IssueRef, PullRef
from repotrack.tracking.forges.common import HttpForge, issue_matcher, quote_segment

__all__ = ["GITEE_API_URL", "GiteeForge"]

GITEE_API_URL = "https://gitee.com/api/v5"


class GiteeForge(HttpForge):
    kind = "gitee"

    def _auth(self) -> dict[str, str]:
        return {"access_token": self._token} if self._token else {}

    def check_token(self) -> None:
        self.http.request("GET", "/user", params=self._auth())

    def find_issue(
        self, target: ForgeTarget, *, marker: str, title: str | None = None
    ) -> IssueRef | None:
        return self._find_issue(target, issue_matcher(marker, title, body_key="body"))

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
        params = {**self._auth(), "state": "all"}
        for item in self.http.paginate(f"{self.repo_path(target)}/issues", params):
            if match(item):
                return self.issue_ref(item)
        return None

    def find_pull_request(self, target: ForgeTarget, *, head: str) -> PullRef | None:
        params = {**self._auth(), "state": "all", "head": head}
        for item in self.http.paginate(f"{self.repo_path(target)}/pulls", params):
            if (item.get("head") or {}).get("ref") == head:
                return self.pull_ref(item)
        return None

    def create_pull_request(
        self, target: ForgeTarget, *, title: str, body: str, head: str, base: str
    ) -> PullRef:
        # The pipeline has just looked for it (find_pull_request), so no listing first;
        # Gitee refuses a second PR for a head with a 400, and only then is it looked up.

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
            try:
                response = self.http.request("POST", path, data=form, expect=(201,))
            except ForgeError as exc:
                existing = self.find_pull_request(target, head=head) if exc.status == 400 else None
                if existing is None:
                    raise
                return existing
            return self.pull_ref(self.http.json(response))

        return self.http.create_guarded(post, lambda: self.find_pull_request(target, head=head))
