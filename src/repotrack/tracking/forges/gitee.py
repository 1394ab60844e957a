"""Gitee API v5, spoken exactly as openEuler's patch-tracking spoke it.

The token travels as ``access_token``: a query parameter on GETs and a form field in
form-encoded POST bodies, because that is the only method Gitee's swagger documents and
what the original service sent (reference ``patch_tracking.md`` §5.2). Issues are created
at the *owner* level, ``POST /repos/{owner}/issues`` with the repository in the ``repo``
field; pull requests at ``POST /repos/{owner}/{repo}/pulls`` with
``prune_source_branch=true`` so Gitee deletes the tracking branch once merged.

Fork mode: ``POST /repos/{owner}/{repo}/forks`` (the token as a form field) forks into
the token owner's namespace and answers 201 once the fork exists; the pull request's
``head`` is then ``login:branch``.

Gitee documents no error for a duplicate pull request; it answers 400, and only then
does :meth:`create_pull_request` look for one with the same head. Its issue list has no
text filter: the marker is matched client-side over ``state=all`` issues (an issue a
maintainer moved to "progressing" or closed is still the one to reuse).
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

    def auth_params(self) -> dict[str, str]:
        return self._auth()

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

    def find_pull_request(
        self, target: ForgeTarget, *, head: str, fork: ForgeTarget | None = None
    ) -> PullRef | None:
        source = f"{fork.owner}:{head}" if fork is not None else head
        params = {**self._auth(), "state": "all", "head": source}
        for item in self.http.paginate(f"{self.repo_path(target)}/pulls", params):
            if self.head_matches(item, head, target, fork):
                return self.pull_ref(item)
        return None

    def create_pull_request(
        self,
        target: ForgeTarget,
        *,
        title: str,
        body: str,
        head: str,
        base: str,
        fork: ForgeTarget | None = None,
    ) -> PullRef:
        # The pipeline has just looked for it (find_pull_request), so no listing first;
        # Gitee refuses a second PR for a head with a 400, and only then is it looked up.
        def find() -> PullRef | None:
            return self.find_pull_request(target, head=head, fork=fork)

        def post() -> PullRef:
            form = {
                **self._auth(),
                "repo": target.name,
                "title": title,
                "head": f"{fork.owner}:{head}" if fork is not None else head,
                "base": base,
                "body": body,
                "prune_source_branch": "true",
            }
            path = f"{self.repo_path(target)}/pulls"
            try:
                response = self.http.request("POST", path, data=form, expect=(201,))
            except ForgeError as exc:
                existing = find() if exc.status == 400 else None
                if existing is None:
                    raise
                return existing
            return self.pull_ref(self.http.json(response))

        return self.http.create_guarded(post, find)
