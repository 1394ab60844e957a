"""GitLab REST v4 (gitlab.com and self-managed).

``PRIVATE-TOKEN`` header, JSON bodies. The project is addressed by its full path with
every ``/`` encoded (``group%2Fsub%2Fname``), which is how subgroups work without a
numeric id lookup. Issues and merge requests are numbered per project by ``iid``; that is
the number returned. Merge requests carry ``source_branch``/``target_branch`` and
``remove_source_branch=true`` (Gitee's ``prune_source_branch``). Lists default to
``state=all`` on GitLab, so ``state=opened`` is always sent. A duplicate merge request is
refused with 409; the open one is then found and returned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from repotrack.errors import ForgeError
from repotrack.tracking.forges.base import ForgeTarget, IssueRef, PullRef
from repotrack.tracking.forges.common import HttpForge, issue_matcher, quote_segment

__all__ = ["GitLabForge"]


class GitLabForge(HttpForge):
    kind = "gitlab"

    def auth_headers(self, token: str) -> Mapping[str, str]:
        return {"PRIVATE-TOKEN": token} if token else {}

    def _project(self, target: ForgeTarget) -> str:
        return f"/projects/{quote_segment(target.full_name)}"

    def check_token(self) -> None:
        self.http.request("GET", "/user")

    def find_issue(
        self, target: ForgeTarget, *, marker: str, title: str | None = None
    ) -> IssueRef | None:
        # GitLab's ``search`` narrows the list in the database (no index lag); the
        # matcher is the real test.
        match = issue_matcher(marker, title, body_key="description")
        found = self._find_issue(target, {"search": marker, "in": "description"}, match)
        if found is None and title is not None:
            found = self._find_issue(target, {"search": title, "in": "title"}, match)
        return found

    def create_issue(self, target: ForgeTarget, *, title: str, body: str) -> IssueRef:
        def post() -> IssueRef:
            payload = {"title": title, "description": body}
            path = f"{self._project(target)}/issues"
            response = self.http.request("POST", path, json_body=payload, expect=(201,))
            return self.issue_ref(self.http.json(response), number="iid", url="web_url")

        def same(item: Mapping[str, Any]) -> bool:
            return item.get("title") == title and (item.get("description") or "") == body

        return self.http.create_guarded(
            post, lambda: self._find_issue(target, {"search": title, "in": "title"}, same)
        )

    def _find_issue(
        self,
        target: ForgeTarget,
        filters: Mapping[str, str],
        match: Callable[[Mapping[str, Any]], bool],
    ) -> IssueRef | None:
        params = {"state": "all", **filters}
        for item in self.http.paginate(f"{self._project(target)}/issues", params):
            if match(item):
                return self.issue_ref(item, number="iid", url="web_url")
        return None

    def find_pull_request(self, target: ForgeTarget, *, head: str) -> PullRef | None:
        params = {"state": "all", "source_branch": head}
        for item in self.http.paginate(f"{self._project(target)}/merge_requests", params):
            if item.get("source_branch") == head:
                return self.pull_ref(item, number="iid", url="web_url")
        return None

    def create_pull_request(
        self, target: ForgeTarget, *, title: str, body: str, head: str, base: str
    ) -> PullRef:
        def post() -> PullRef:
            payload = {
                "source_branch": head,
                "target_branch": base,
                "title": title,
                "description": body,
                "remove_source_branch": True,
            }
            path = f"{self._project(target)}/merge_requests"
            try:
                response = self.http.request("POST", path, json_body=payload, expect=(201,))
            except ForgeError as exc:
                # 409 "Another open merge request already exists for this source branch".
                existing = self.find_pull_request(target, head=head) if exc.status == 409 else None
                if existing is None:
                    raise
                return existing
            return self.pull_ref(self.http.json(response), number="iid", url="web_url")

        return self.http.create_guarded(post, lambda: self.find_pull_request(target, head=head))
